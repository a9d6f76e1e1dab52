namespace OfflineExport.Backup;

/// <summary>Whose a checkpoint in a disk is, as <c>checkpoints DIR</c> tells them apart.</summary>
public enum CheckpointOwner
{
    /// <summary>This backup folder made it (its tag, or recorded by its points).</summary>
    ThisFolder,

    /// <summary>Another backup folder of this tool made it (another tag, or the folder this one was copied from).</summary>
    OtherFolder,

    /// <summary>Not this tool's: libvirt's, another program's, the operator's.</summary>
    Foreign,
}
