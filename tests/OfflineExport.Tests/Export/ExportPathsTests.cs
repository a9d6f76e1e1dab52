using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

public sealed class ExportPathsTests
{
    [Fact]
    public void Backing_in_the_output_folder_is_recorded_by_its_file_name()
    {
        // Arrange
        var paths = new ExportPaths("/var/lib/vm/top.qcow2", "/backup/vm/d1.inc1.qcow2", "/backup/vm/d1.full.qcow2");

        // Act
        var recorded = paths.BackingAsRecorded;

        // Assert
        Assert.Equal("d1.full.qcow2", recorded);
    }

    [Fact]
    public void Backing_in_a_sibling_folder_is_recorded_relative_to_the_output_folder()
    {
        // Arrange
        var paths = new ExportPaths("/var/lib/vm/top.qcow2", "/backup/vm/d1.inc1.qcow2", "/backup/x/prev.qcow2");

        // Act
        var recorded = paths.BackingAsRecorded;

        // Assert
        Assert.Equal("../x/prev.qcow2", recorded);
    }

    [Fact]
    public void Backing_in_a_subfolder_is_recorded_relative_to_the_output_folder()
    {
        // Arrange
        var paths = new ExportPaths("/var/lib/vm/top.qcow2", "/backup/d1.inc1.qcow2", "/backup/full/d1.full.qcow2");

        // Act
        var recorded = paths.BackingAsRecorded;

        // Assert
        Assert.Equal("full/d1.full.qcow2", recorded);
    }

    [Fact]
    public void No_backing_is_recorded_for_a_full_export()
    {
        // Arrange
        var paths = new ExportPaths("/var/lib/vm/top.qcow2", "/backup/vm/d1.full.qcow2", null);

        // Act
        var recorded = paths.BackingAsRecorded;

        // Assert
        Assert.Null(recorded);
    }

    [Fact]
    public void Output_folder_is_the_folder_of_the_output()
    {
        // Arrange
        var paths = new ExportPaths("/var/lib/vm/top.qcow2", "/backup/vm/d1.full.qcow2", null);

        // Act
        var folder = paths.OutputFolder;

        // Assert
        Assert.Equal("/backup/vm", folder);
    }

    [Fact]
    public void Relative_request_paths_are_resolved_against_the_current_folder()
    {
        // Arrange
        var request = new ExportRequest { Image = "vm/top.qcow2", Output = "out/d1.qcow2", Backing = "../prev/d0.qcow2" };
        var current = Environment.CurrentDirectory;

        // Act
        var paths = ExportPaths.From(request);

        // Assert
        Assert.Equal(Path.Combine(current, "vm", "top.qcow2"), paths.Image);
        Assert.Equal(Path.Combine(current, "out", "d1.qcow2"), paths.Output);
        Assert.Equal(Path.GetFullPath(Path.Combine(current, "..", "prev", "d0.qcow2")), paths.Backing);
        Assert.Equal("../../prev/d0.qcow2", paths.BackingAsRecorded);
    }

    [Fact]
    public void Request_without_backing_has_no_backing_path()
    {
        // Arrange
        var request = new ExportRequest { Image = "/var/lib/vm/top.qcow2", Output = "/backup/d1.qcow2" };

        // Act
        var paths = ExportPaths.From(request);

        // Assert
        Assert.Null(paths.Backing);
        Assert.Equal("/var/lib/vm/top.qcow2", paths.Image);
    }
}
