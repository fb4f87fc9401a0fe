namespace Experiments.Runtime.Data;

public sealed partial class DatasetProvisioner
{
    private List<string>? TryMirror(DatasetSpec spec, string mirror, string cache, List<string> tried)
    {
        using var handler = new SocketsHttpHandler { ConnectTimeout = _options.ConnectTimeout };
        using var client = new HttpClient(handler) { Timeout = _options.AttemptTimeout };
        var verified = new List<(DatasetFile File, byte[] Bytes)>();
        foreach (DatasetFile file in spec.Files)
        {
            string url = mirror.TrimEnd('/') + "/" + file.Name + ".gz";
            byte[] raw;
            try
            {
                byte[] body = client.GetByteArrayAsync(new Uri(url)).GetAwaiter().GetResult();
                raw = IdxFile.IsGzip(body) ? IdxFile.Gunzip(body) : body;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidDataException or UriFormatException)
            {
                string reason = e is TaskCanceledException ? $"timed out after {_options.AttemptTimeout.TotalSeconds:0} s" : e.Message;
                tried.Add($"download {url}: {reason}");
                return null;
            }

            string actual = Sha256Hex(raw);
            if (actual != file.Sha256)
            {
                tried.Add($"download {url}: SHA-256 {actual} (uncompressed), expected {file.Sha256}; not used");
                return null;
            }

            verified.Add((file, raw));
        }

        return verified.Select(v => WriteAtomically(cache, v.File.Name, v.Bytes)).ToList();
    }
}
