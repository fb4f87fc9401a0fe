// The experiments command line: list, summary, run, report, diff, accept, data (each with --help).
return Experiments.Runtime.Hosting.ExperimentsCli.Run(args, MyLabNamespace.ExperimentRegistry.All);
