namespace OfflineExport.Backup;

/// <summary>How far a forget run got, as its journal records it.</summary>
public enum ForgetStage
{
    /// <summary>Writing merged copies under temporary names; the folder is untouched. A killed run is rolled back.</summary>
    Building,

    /// <summary>Every merged copy is complete and proved; the run is putting them in place. A killed run is rolled forward.</summary>
    Committing,
}
