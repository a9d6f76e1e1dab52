using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OfflineExport.Backup;

namespace OfflineExport.Cli.Tests.Docs;

/// <summary>
/// docs/json.md documents every key --json writes. Each string key src/OfflineExport.Cli/ResultJson.cs
/// writes as <c>["key"] =</c>, and each key of the manifest records <c>list --json</c> passes through,
/// must be the first cell of a table row of docs/json.md (<c>| `key` | …</c>), so a key added to the
/// code without documentation fails here.
/// </summary>
public sealed class JsonSchemaDocTests
{
    // A key as ResultJson.cs writes it in an object initializer: ["disk"] = … (never a comparison, ==).
    private static readonly Regex CodeKey = new(@"\[""([^""\\]+)""\]\s*=(?!=)", RegexOptions.CultureInvariant);

    // A table row of the doc whose first cell is one backticked key: | `disk` | string | …
    private static readonly Regex TableKey = new(@"^\|[ \t]*`([^`]+)`[ \t]*\|", RegexOptions.CultureInvariant | RegexOptions.Multiline);

    private static readonly Lazy<string> Root = new(FindRepositoryRoot);
    private static readonly Lazy<HashSet<string>> Documented = new(() => DocumentedKeys(File.ReadAllText(Path.Combine(Root.Value, "docs", "json.md"))));

    /// <summary>Every distinct key ResultJson.cs writes.</summary>
    public static TheoryData<string> CodeKeys()
    {
        var data = new TheoryData<string>();
        foreach (var key in KeysWritten(File.ReadAllText(Path.Combine(Root.Value, "src", "OfflineExport.Cli", "ResultJson.cs"))))
        {
            data.Add(key);
        }

        return data;
    }

    /// <summary>Every distinct key under <c>disks</c> of <c>list --json</c>: the manifest's records, as ResultJson renames them.</summary>
    public static TheoryData<string> ListKeys()
    {
        var data = new TheoryData<string>();
        foreach (var key in KeysIn(ListResult()["disks"]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            data.Add(key);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CodeKeys))]
    public void Each_key_ResultJson_writes_is_documented(string key)
    {
        // Act
        var documented = Documented.Value.Contains(key);

        // Assert
        Assert.True(documented, $"ResultJson.cs writes the key \"{key}\", but no table row of docs/json.md starts with `{key}`: add it to the verb's table (key, JSON type, meaning, when null)");
    }

    [Theory]
    [MemberData(nameof(ListKeys))]
    public void Each_key_of_the_disks_list_prints_is_documented(string key)
    {
        // Act
        var documented = Documented.Value.Contains(key);

        // Assert
        Assert.True(documented, $"list --json writes the manifest key \"{key}\", but no table row of docs/json.md starts with `{key}`: add it to the list section's tables");
    }

    [Fact]
    public void The_keys_of_nested_and_error_objects_are_extracted()
    {
        // Arrange
        var source = File.ReadAllText(Path.Combine(Root.Value, "src", "OfflineExport.Cli", "ResultJson.cs"));

        // Act
        var keys = KeysWritten(source);

        // Assert
        Assert.Contains("diskCount", keys); // check's result
        Assert.Contains("rules", keys);     // forget's kept[], written on one line with "point"
        Assert.Contains("exitCode", keys);  // the error object
    }

    [Fact]
    public void A_key_outside_a_table_row_is_not_documented()
    {
        // Arrange
        var doc = "| key | type |\n|---|---|\n| `disk` | string |\nThe text mentions `image` but no row starts with it.\n";

        // Act
        var documented = DocumentedKeys(doc);

        // Assert
        Assert.Contains("disk", documented);
        Assert.DoesNotContain("image", documented);
        Assert.DoesNotContain("key", documented);
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "OfflineExport.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds OfflineExport.sln");
    }

    private static List<string> KeysWritten(string source) =>
        CodeKey.Matches(source).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    private static HashSet<string> DocumentedKeys(string doc) =>
        TableKey.Matches(doc).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<string> KeysIn(JsonNode? node) => node switch
    {
        JsonObject item => item.SelectMany(p => KeysIn(p.Value).Prepend(p.Key)),
        JsonArray items => items.SelectMany(n => KeysIn(n)),
        _ => Enumerable.Empty<string>(),
    };

    // A manifest with every optional record filled in, so that every key of a disk, a point and its identity is written.
    private static JsonObject ListResult()
    {
        var point = new PointRecord
        {
            Number = 1,
            File = "vda.1.inc.qcow2",
            Level = PointLevel.Inc,
            BackingPoint = 0,
            CheckpointsUsed = ["ck0"],
            CheckpointCreated = "ck1",
            Source = "/vm/vda.qcow2",
            Disk = new DiskIdentity { Path = "/vm/vda.qcow2", Device = 2049, Inode = 12, Format = "qcow2", VirtualSize = 1 << 30 },
            VirtualSize = 1 << 30,
            BytesCopied = 4096,
            ToolVersion = "offline-export 0.1.0",
            FileSha256 = "00",
            FileSize = 196608,
        };
        var disk = new DiskRecord { Name = "vda", Source = "/vm/vda.qcow2", Format = "qcow2", VirtualSize = 1 << 30, CurrentCheckpoint = "ck1", Points = [point] };
        return ResultJson.Of("/backups/web1", new BackupManifest { Disks = [disk] }, Array.Empty<PointDamage>());
    }
}
