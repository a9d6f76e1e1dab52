namespace OfflineExport.Qemu;

/// <summary>A format qemu would probe a file as, and the other file its header would make qemu open.</summary>
/// <param name="Format">What qemu would call the file: "qcow2", "qcow", "qed" or "vmdk".</param>
/// <param name="What">The other file, for a message ("backing file 'NAME'", "an external data file", "the files its header names").</param>
public sealed record ProbedReference(string Format, string What);
