namespace OfflineExport.IntegrationTests.Support;

/// <summary>An IProgress that calls back synchronously on the reporting thread (Progress&lt;T&gt; would post elsewhere).</summary>
public sealed class CallbackProgress<T>(Action<T> callback) : IProgress<T>
{
    /// <summary>Calls the callback.</summary>
    public void Report(T value) => callback(value);
}
