using Spectre.Console;

namespace OfflineExport.Cli;

/// <summary>The tables <c>list</c> and <c>info</c> print: no frame, a rule under the headers, two spaces between columns, so 80 columns hold them.</summary>
public static class Tables
{
    /// <summary>A table with <paramref name="headers"/> in this style.</summary>
    public static Table Plain(params string[] headers)
    {
        var table = new Table().Border(TableBorder.Horizontal);
        AddColumns(table, headers);
        return table;
    }

    /// <summary>Adds columns in this style (no left padding, two spaces to the next column).</summary>
    public static void AddColumns(Table table, params string[] headers)
    {
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(header).Padding(0, 0, 2, 0));
        }
    }
}
