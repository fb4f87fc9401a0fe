namespace Experiments.Runtime.Hosting;

/// <summary>The command line was wrong; the message says how to fix it. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A run could not complete; the message says why. Exit code 1.</summary>
public sealed class RunFailedException(string message) : Exception(message);
