using OfflineExport.IO;
using OfflineExport.Processes;

namespace OfflineExport.Export;

/// <summary>
/// A run's private work folder (0700, under the configured parent or the system's temp folder) with the
/// record that names its owner, so the next run can tell a killed run's leftovers from a live one's
/// (<see cref="StaleWorkFolders"/>).
/// </summary>
public static class RunWorkFolder
{
    /// <summary>Creates the folder and its record.</summary>
    /// <param name="parent">Where work folders go (null: the system's temp folder).</param>
    /// <exception cref="OfflineExportException">The folder cannot be made (OutputProblem).</exception>
    public static PrivateDirectory Create(string? parent)
    {
        try
        {
            var directory = PrivateDirectory.Create(parent);
            try
            {
                new WorkFolderRecord { Owner = ProcessIdentity.Current }.Save(directory.Path);
            }
            catch
            {
                directory.Dispose();
                throw;
            }

            return directory;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot create a private work folder: {IoErrorText.Reason(ex)}", ex);
        }
    }

    /// <summary>Records <paramref name="partial"/> before it exists: a run killed from here on leaves a file the next run removes.</summary>
    public static void RecordPartial(PrivateDirectory directory, string partial) =>
        new WorkFolderRecord { Owner = ProcessIdentity.Current, Partial = partial }.Save(directory.Path);
}
