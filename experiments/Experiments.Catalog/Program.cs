using Experiments.Catalog;
using Experiments.Runtime.Hosting;

return ExperimentsCli.Run(args, ExperimentRegistry.All);
