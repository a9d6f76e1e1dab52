using System.Text.Json;
using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Tests.Backup;

public sealed class ManifestStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private string ManifestPath => Path.Combine(_folder.Path, ManifestStore.FileName);

    public void Dispose() => _folder.Dispose();

    /// <summary>A manifest where every field of every record differs from its default.</summary>
    private static BackupManifest FullyPopulated() => new()
    {
        FormatVersion = 1,
        Disks =
        [
            new DiskRecord
            {
                Name = "vda",
                Source = "/var/lib/vm/vda.qcow2",
                Format = "qcow2",
                VirtualSize = 10L * 1024 * 1024 * 1024,
                CurrentCheckpoint = "offline-export-20261103T010000Z",
                Points =
                [
                    new PointRecord
                    {
                        Number = 0,
                        File = "vda.0.full.qcow2",
                        Level = PointLevel.Full,
                        BackingPoint = null,
                        CheckpointsUsed = [],
                        CheckpointCreated = "offline-export-20261101T010000Z",
                        Source = "/var/lib/vm/vda.qcow2",
                        VirtualSize = 10L * 1024 * 1024 * 1024,
                        BytesCopied = 123_456_789,
                        BytesZeroed = 65536,
                        StartTime = new DateTimeOffset(2026, 11, 1, 1, 0, 0, 125, TimeSpan.Zero),
                        EndTime = new DateTimeOffset(2026, 11, 1, 1, 4, 2, 500, TimeSpan.Zero),
                        ToolVersion = "offline-export 0.1.0",
                        Verified = true,
                    },
                    new PointRecord
                    {
                        Number = 1,
                        File = "vda.1.inc.qcow2",
                        Level = PointLevel.Inc,
                        BackingPoint = 0,
                        CheckpointsUsed = ["offline-export-20261101T010000Z"],
                        CheckpointCreated = "offline-export-20261102T010000Z",
                        Source = "/var/lib/vm/vda.qcow2",
                        VirtualSize = 10L * 1024 * 1024 * 1024,
                        BytesCopied = ulong.MaxValue - 1,
                        BytesZeroed = 1,
                        StartTime = new DateTimeOffset(2026, 11, 2, 3, 0, 0, TimeSpan.FromHours(2)),
                        EndTime = new DateTimeOffset(2026, 11, 2, 3, 1, 0, TimeSpan.FromHours(2)),
                        ToolVersion = "offline-export 0.1.0",
                        Verified = false,
                    },
                    new PointRecord
                    {
                        Number = 2,
                        File = "vda.2.diff.qcow2",
                        Level = PointLevel.Diff,
                        BackingPoint = 0,
                        CheckpointsUsed = ["offline-export-20261101T010000Z", "offline-export-20261102T010000Z"],
                        CheckpointCreated = "offline-export-20261103T010000Z",
                        Source = "/var/lib/vm/vda.qcow2",
                        VirtualSize = 10L * 1024 * 1024 * 1024,
                        BytesCopied = 4096,
                        BytesZeroed = 8192,
                        StartTime = new DateTimeOffset(2026, 11, 3, 1, 0, 0, TimeSpan.Zero),
                        EndTime = new DateTimeOffset(2026, 11, 3, 1, 0, 30, TimeSpan.Zero),
                        ToolVersion = "offline-export 0.2.0",
                        Verified = true,
                    },
                ],
            },
            new DiskRecord
            {
                Name = "vdb",
                Source = "/var/lib/vm/vdb.raw",
                Format = "raw",
                VirtualSize = 1024 * 1024,
                CurrentCheckpoint = null,
                Points =
                [
                    new PointRecord
                    {
                        Number = 0,
                        File = "vdb.0.full.qcow2",
                        Level = PointLevel.Full,
                        CheckpointCreated = null,
                        Source = "/var/lib/vm/vdb.raw",
                        VirtualSize = 1024 * 1024,
                        BytesCopied = 512,
                        StartTime = new DateTimeOffset(2026, 11, 1, 1, 0, 0, TimeSpan.Zero),
                        EndTime = new DateTimeOffset(2026, 11, 1, 1, 0, 1, TimeSpan.Zero),
                        ToolVersion = "offline-export 0.1.0",
                    },
                ],
            },
        ],
    };

    private static void AssertSamePoint(PointRecord expected, PointRecord actual)
    {
        Assert.Equal(expected.CheckpointsUsed, actual.CheckpointsUsed);
        Assert.Equal(expected.StartTime.Offset, actual.StartTime.Offset);
        Assert.Equal(expected.EndTime.Offset, actual.EndTime.Offset);

        // Record equality covers every other field (the list is compared above).
        Assert.Equal(expected, actual with { CheckpointsUsed = expected.CheckpointsUsed });
    }

    // ----- Load / LoadExisting without a manifest -----

    [Fact]
    public void Load_of_a_folder_without_manifest_gives_an_empty_manifest()
    {
        // Act
        var manifest = ManifestStore.Load(_folder.Path);

        // Assert
        Assert.Equal(1, manifest.FormatVersion);
        Assert.Empty(manifest.Disks);
        Assert.Empty(_folder.EntryNames());
    }

    [Fact]
    public void LoadExisting_of_a_folder_without_manifest_is_a_backup_folder_problem_naming_the_folder()
    {
        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ManifestStore.LoadExisting(_folder.Path));

        // Assert
        Assert.Equal(ErrorKind.BackupFolderProblem, ex.Kind);
        Assert.Contains(_folder.Path, ex.Message, StringComparison.Ordinal);
    }

    // ----- Save -----

    [Fact]
    public void Save_then_Load_round_trips_every_field()
    {
        // Arrange
        var original = FullyPopulated();

        // Act
        ManifestStore.Save(_folder.Path, original);
        var loaded = ManifestStore.Load(_folder.Path);

        // Assert
        Assert.Equal(original.FormatVersion, loaded.FormatVersion);
        Assert.Equal(original.Disks.Count, loaded.Disks.Count);
        for (var d = 0; d < original.Disks.Count; d++)
        {
            var expected = original.Disks[d];
            var actual = loaded.Disks[d];
            Assert.Equal(expected.Name, actual.Name);
            Assert.Equal(expected.Source, actual.Source);
            Assert.Equal(expected.Format, actual.Format);
            Assert.Equal(expected.VirtualSize, actual.VirtualSize);
            Assert.Equal(expected.CurrentCheckpoint, actual.CurrentCheckpoint);
            Assert.Equal(expected.Points.Count, actual.Points.Count);
            for (var p = 0; p < expected.Points.Count; p++)
            {
                AssertSamePoint(expected.Points[p], actual.Points[p]);
            }
        }
    }

    [Fact]
    public void LoadExisting_reads_a_saved_manifest()
    {
        // Arrange
        ManifestStore.Save(_folder.Path, FullyPopulated());

        // Act
        var loaded = ManifestStore.LoadExisting(_folder.Path);

        // Assert
        Assert.Equal(["vda", "vdb"], loaded.Disks.Select(d => d.Name));
        Assert.Equal([0, 1, 2], loaded.Disks[0].Points.Select(p => p.Number));
    }

    [Fact]
    public void Save_writes_point_levels_as_lower_case_words()
    {
        // Act
        ManifestStore.Save(_folder.Path, FullyPopulated());
        var json = File.ReadAllText(ManifestPath);

        // Assert
        using var document = JsonDocument.Parse(json);
        var levels = document.RootElement.GetProperty("disks").EnumerateArray()
            .SelectMany(d => d.GetProperty("points").EnumerateArray())
            .Select(p => p.GetProperty("level"))
            .ToList();
        Assert.All(levels, l => Assert.Equal(JsonValueKind.String, l.ValueKind));
        Assert.Equal(["full", "inc", "diff", "full"], levels.Select(l => l.GetString()));
    }

    [Fact]
    public void Save_writes_the_format_version_as_formatVersion()
    {
        // Act
        ManifestStore.Save(_folder.Path, FullyPopulated());
        var json = File.ReadAllText(ManifestPath);

        // Assert
        Assert.Matches("\"formatVersion\"\\s*:\\s*1[,\\s}]", json);
    }

    [Fact]
    public void Save_leaves_only_the_manifest_in_the_folder()
    {
        // Act
        ManifestStore.Save(_folder.Path, FullyPopulated());
        ManifestStore.Save(_folder.Path, FullyPopulated());

        // Assert
        Assert.Equal([ManifestStore.FileName], _folder.EntryNames());
    }

    [Fact]
    public void Save_replaces_an_existing_manifest()
    {
        // Arrange
        ManifestStore.Save(_folder.Path, FullyPopulated());
        var smaller = new BackupManifest { Disks = [FullyPopulated().Disks[1]] };

        // Act
        ManifestStore.Save(_folder.Path, smaller);
        var loaded = ManifestStore.Load(_folder.Path);

        // Assert
        Assert.Equal("vdb", Assert.Single(loaded.Disks).Name);
    }

    // ----- unreadable manifests -----

    [Theory]
    [InlineData("{ not json")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[1, 2]")]
    [InlineData("{\"formatVersion\": 1, \"disks\": [{\"name\": \"vda\", \"points\": [], \"source\": \"/x\", \"currentCheckpoint\": 5}]}")]
    public void Load_of_an_unreadable_manifest_is_a_backup_folder_problem_naming_the_path(string content)
    {
        // Arrange
        File.WriteAllText(ManifestPath, content);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ManifestStore.Load(_folder.Path));

        // Assert
        Assert.Equal(ErrorKind.BackupFolderProblem, ex.Kind);
        Assert.Contains(ManifestPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadExisting_of_an_unreadable_manifest_is_a_backup_folder_problem_naming_the_path()
    {
        // Arrange
        File.WriteAllText(ManifestPath, "{\"formatVersion\": 1, \"disks\": [");

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ManifestStore.LoadExisting(_folder.Path));

        // Assert
        Assert.Equal(ErrorKind.BackupFolderProblem, ex.Kind);
        Assert.Contains(ManifestPath, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Load_of_another_format_version_is_a_backup_folder_problem_naming_the_path(int version)
    {
        // Arrange
        File.WriteAllText(ManifestPath, $"{{\"formatVersion\": {version}, \"disks\": []}}");

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ManifestStore.Load(_folder.Path));

        // Assert
        Assert.Equal(ErrorKind.BackupFolderProblem, ex.Kind);
        Assert.Contains(ManifestPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_of_a_saved_manifest_with_another_format_version_is_refused()
    {
        // Arrange
        ManifestStore.Save(_folder.Path, FullyPopulated() with { FormatVersion = 2 });

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ManifestStore.Load(_folder.Path));

        // Assert
        Assert.Equal(ErrorKind.BackupFolderProblem, ex.Kind);
        Assert.Contains(ManifestPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Manifest_written_before_formats_were_recorded_loads_with_the_format_unknown()
    {
        // Arrange: a disk record as offline-export 0.1.0 wrote it, without "format".
        File.WriteAllText(ManifestPath, """
            {"formatVersion": 1, "disks": [{"name": "vda", "source": "/var/lib/vm/vda.raw", "virtualSize": 1048576, "currentCheckpoint": null,
              "points": [{"number": 0, "file": "vda.0.full.qcow2", "level": "full", "checkpointsUsed": [], "checkpointCreated": null,
                          "source": "/var/lib/vm/vda.raw", "virtualSize": 1048576, "toolVersion": "offline-export 0.1.0"}]}]}
            """);

        // Act
        var disk = Assert.Single(ManifestStore.Load(_folder.Path).Disks);

        // Assert
        Assert.Null(disk.Format);
        Assert.Equal("raw", disk.KnownFormat);
    }

    [Fact]
    public void Save_writes_each_disks_format()
    {
        // Act
        ManifestStore.Save(_folder.Path, FullyPopulated());
        using var document = JsonDocument.Parse(File.ReadAllText(ManifestPath));

        // Assert
        var formats = document.RootElement.GetProperty("disks").EnumerateArray().Select(d => d.GetProperty("format").GetString());
        Assert.Equal(["qcow2", "raw"], formats);
    }
}
