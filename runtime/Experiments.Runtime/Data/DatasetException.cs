namespace Experiments.Runtime.Data;

/// <summary>A dataset file is missing, corrupt or cannot be provisioned; the message names the file and the fix.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string message)
        : base(message)
    {
    }

    public DatasetException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
