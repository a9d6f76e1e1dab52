namespace OfflineExport.IntegrationTests.Support;

/// <summary>The tests that need a real libvirtd share one (see <see cref="LibvirtDaemons"/>) and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class LibvirtCollection : ICollectionFixture<LibvirtDaemons>
{
    public const string Name = "libvirt";
}
