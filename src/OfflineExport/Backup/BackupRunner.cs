using System.Diagnostics;
using System.Text.Json;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Libvirt;
using OfflineExport.Processes;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// One backup run over several disks, all or nothing (ARCHITECTURE.md, "Checkpoint rotation"): start a
/// new checkpoint on every disk before its chain is opened for export, export every disk under a
/// pending name, then put all points in place and record them — only then do the new checkpoints
/// count. On any failure the pending files and the new checkpoints are removed and the folder, its
/// manifest and the disks' checkpoints are as they were.
/// </summary>
public sealed class BackupRunner
{
    /// <summary>How long the steps after the points are recorded (libvirt's registration, checkpoint retention) may take; no Ctrl-C cuts them.</summary>
    private static readonly TimeSpan FinishingDeadline = TimeSpan.FromMinutes(2);

    private readonly ExportOptions _options;

    /// <summary>Creates a runner with the given tools and tuning.</summary>
    public BackupRunner(ExportOptions options) => _options = options;

    /// <summary>Runs the backup.</summary>
    public Task<BackupResult> RunAsync(BackupRequest request, IProgress<DiskProgress>? progress, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => BackUpThenStartAsync(request, progress, cancellationToken));

    /// <summary>
    /// The backup, then, with <see cref="BackupRequest.Start"/>, the domain this run shut down started again
    /// whatever the outcome; the result, or the error, says what happened.
    /// </summary>
    private async Task<BackupResult> BackUpThenStartAsync(BackupRequest request, IProgress<DiskProgress>? progress, CancellationToken cancellationToken)
    {
        if ((request.Shutdown || request.Start) && request.Domain is null)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--shutdown and --start need --domain NAME");
        }

        if (request.Start && !request.Shutdown)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--start needs --shutdown: it starts again the domain this run shut down");
        }

        if (request.Shutdown && request.DryRun)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--shutdown does not go with --dry-run: a dry run changes nothing, a running domain included");
        }

        var shutDown = new LibvirtShutdown();
        if (!request.Start)
        {
            return await BackUpAsync(request, shutDown, progress, cancellationToken).ConfigureAwait(false);
        }

        BackupResult result;
        try
        {
            result = await BackUpAsync(request, shutDown, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Even after Ctrl-C: the VM's downtime is what --start is for.
            var started = await StartAgainAsync(request, shutDown).ConfigureAwait(false);
            _options.Log?.Invoke(started);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new RunInterruptedException(started, ex);
            }

            if ((ex as OfflineExportException ?? FailureTranslation.ToUserError(ex)) is { } error)
            {
                throw new OfflineExportException(error.Kind, $"{error.Message}; {started}", ex);
            }

            throw;
        }

        var outcome = await StartAgainAsync(request, shutDown).ConfigureAwait(false);
        return outcome.StartsWith("could not", StringComparison.Ordinal)
            ? result with { Warnings = [.. result.Warnings, outcome] }
            : result with { Notes = [.. result.Notes, outcome] };
    }

    /// <summary>Starts the domain if this run shut it down; says what happened, in words for the result. Never throws.</summary>
    private async Task<string> StartAgainAsync(BackupRequest request, LibvirtShutdown shutDown)
    {
        if (shutDown.Uuid is not { } uuid)
        {
            return $"domain {request.Domain} was not shut down by this run; left as it is";
        }

        // Run after a Ctrl-C, perhaps with another to come: no terminal signal may cut these calls.
        var virsh = new Virsh(request.Connect ?? _options.LibvirtUri, log: _options.Log, toTheEnd: true);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            // Asked to shut down, the guest may not have powered off yet (the wait timed out, or was interrupted).
            var state = await virsh.DomainStateAsync(uuid, timeout.Token).ConfigureAwait(false);
            if (state != "shut off")
            {
                return $"domain {request.Domain} was asked to shut down and is still {state}; should it power off later, start it with virsh -c {virsh.Uri} start {request.Domain}";
            }

            await virsh.StartAsync(uuid, timeout.Token).ConfigureAwait(false);
            return $"started domain {request.Domain} again";
        }
        catch (Exception ex)
        {
            return $"could not start domain {request.Domain} again: {ex.Message}";
        }
    }

    private async Task<BackupResult> BackUpAsync(BackupRequest request, LibvirtShutdown shutDown, IProgress<DiskProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (request.KeepCheckpoints is < 1)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--keep-checkpoints must be at least 1 (the newest checkpoint is the one the next backup needs)");
        }

        if (request.FullEvery is < 1)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--full-every must be at least 1 (1: every point is a full one)");
        }

        if (request.Domain is not null && request.DomainXml is not null)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--domain and --domain-xml do not go together: --domain reads the XML from libvirt");
        }

        var notes = new List<string>();
        var skipped = new List<string>();
        var skippedData = new List<string>();
        if (request.DomainXml is not null)
        {
            request = WithDisks(request, DomainXml.Read(request.DomainXml), byTarget: false, skipped, skippedData);
        }

        var virsh = request.Domain is null ? null : new Virsh(request.Connect ?? _options.LibvirtUri, log: _options.Log);
        LibvirtDomain? domain = null;
        if (virsh is not null)
        {
            // With --shutdown the domain may still run: it is shut down only once everything local is in order.
            domain = await LibvirtDomain.ReadAsync(virsh, request.Domain!, anyState: request.Shutdown, cancellationToken).ConfigureAwait(false);
            request = WithDisks(request, domain.Disks, byTarget: true, skipped, skippedData);
        }

        if (request.Images.Count == 0)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, request.DomainXml is null ? "give the images to back up, or --domain NAME, or --domain-xml FILE" : $"{request.DomainXml} has no file-backed disk to back up");
        }

        CheckImages(request);
        var qemuImg = _options.CreateQemuImg();
        var target = FolderPath.Full(request.Target);
        PrepareFolder(target, request.DryRun);
        using var folderLock = request.DryRun ? null : BackupFolderLock.Acquire(target);
        if (domain is not null && request.Shutdown)
        {
            // The shutdown is this run's from the moment it is asked for: --start then starts the domain again whenever it powers off in time.
            if (await domain.ShutDownAsync(virsh!, request.ShutdownTimeout, () => shutDown.Uuid = domain.Uuid, cancellationToken).ConfigureAwait(false))
            {
                notes.Add($"shut down domain {domain.Name}");
            }

            await LibvirtDomain.RequireShutOffAsync(virsh!, domain.Name, domain.Uuid, cancellationToken).ConfigureAwait(false);
        }

        var (manifest, copyNote) = BackupFolderIdentity.Settle(ManifestStore.Load(target), FileIdentity.Of(target), BackupFolderIdentity.NewId, target);
        if (copyNote is not null)
        {
            notes.Add(copyNote);
        }

        var warnings = new List<string>();
        if (!request.DryRun)
        {
            if (ForgetJournal.TryFinishPending(target, folderLockHeld: true) is { } finished)
            {
                notes.Add(finished);
                manifest = BackupFolderIdentity.Settle(ManifestStore.Load(target), FileIdentity.Of(target), BackupFolderIdentity.NewId, target).Manifest;
            }

            notes.AddRange(await KilledRunRecovery.RecoverAsync(qemuImg, target, manifest, warnings, cancellationToken).ConfigureAwait(false));
        }

        var disks = await ReadDisksAsync(qemuImg, manifest, request, notes, warnings, cancellationToken).ConfigureAwait(false);
        (manifest, var imports) = await BackupSeeds.ApplyAsync(qemuImg, manifest, disks, request, cancellationToken).ConfigureAwait(false);
        if (imports.Count > 0)
        {
            // The incremental on a seed also proves the seed: it must compare identical to the disk.
            request = request with { Verify = true };
        }

        var plans = BackupPlanner.Plan(manifest, disks, request.Level, DateTimeOffset.UtcNow, point => ChainProblem(target, manifest, point, imports), request.FullEvery);
        BackupSeeds.RequireIncrementals(plans, request);
        warnings.AddRange(plans.Select(p => p.Warning).OfType<string>());
        CheckCheckpointsCanBeWritten(plans);

        if (request.DryRun)
        {
            var measured = new List<BackupDiskResult>();
            foreach (var planned in plans)
            {
                var (plan, export) = await ExportOrFullAsync(planned, target, p => Path.Combine(target, p.File), request with { Verify = false }, null, warnings, cancellationToken).ConfigureAwait(false);
                measured.Add(new BackupDiskResult(plan, null, export));
            }

            return new BackupResult(target, measured, [], warnings, clock.Elapsed) { Notes = notes, Skipped = skipped, SkippedData = skippedData };
        }

        // The previous points' chains were examined by the planner (ChainProblem) before qemu opens any of them.
        foreach (var plan in plans)
        {
            RefuseForeignFile(target, plan.File);
        }

        var results = await BackUpAllOrNothingAsync(qemuImg, manifest, plans, imports, target, request, progress, warnings, cancellationToken).ConfigureAwait(false);
        notes.AddRange(results.SelectMany(r => r.Export?.Notes ?? []));
        // The points are recorded: what follows runs to its end (within a deadline), so a Ctrl-C now neither leaves the new
        // checkpoint unknown to libvirt nor reports a backup that was made as interrupted.
        using var finishing = new CancellationTokenSource(FinishingDeadline);
        var finishingVirsh = virsh?.ToTheEnd();
        if (domain is not null)
        {
            await RegisterWithLibvirtAsync(finishingVirsh!, domain, target, plans, results, warnings, finishing.Token).ConfigureAwait(false);
        }

        IReadOnlyList<string> removed = [];
        try
        {
            if (request.KeepCheckpoints is { } keep)
            {
                removed = await PruneCheckpointsAsync(qemuImg, ManifestStore.Load(target), plans, keep, finishingVirsh is null ? null : (finishingVirsh, domain!.Uuid, domain.Name), warnings, finishing.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (finishing.IsCancellationRequested)
        {
            warnings.Add($"the old checkpoints were not all removed within {FinishingDeadline.TotalSeconds:0} s; the next backup with --keep-checkpoints removes them");
        }

        return new BackupResult(target, results, removed, warnings, clock.Elapsed) { Notes = notes, Skipped = skipped, SkippedData = skippedData };
    }

    /// <summary>
    /// The request with <paramref name="disks"/> added (format from their driver type), named by target dev
    /// when <paramref name="byTarget"/> (a libvirt domain) or by file name (a domain XML file, as before);
    /// the skipped ones are listed in <paramref name="skipped"/>.
    /// </summary>
    private static BackupRequest WithDisks(BackupRequest request, IReadOnlyList<DomainDisk> disks, bool byTarget, List<string> skipped, List<string> skippedData)
    {
        var images = request.Images.ToList();
        var formats = images.Select((_, i) => i < request.Formats.Count ? request.Formats[i] : null).ToList();
        var names = images.Select((_, i) => i < request.Names.Count ? request.Names[i] : null).ToList();
        foreach (var disk in disks)
        {
            if (disk.Image is not null)
            {
                images.Add(disk.Image);
                formats.Add(disk.Format);
                names.Add(byTarget ? disk.Target : null);
            }
            else
            {
                (disk.HoldsData ? skippedData : skipped).Add($"skipping {disk.Target ?? "a disk"}: {disk.Skipped}");
            }
        }

        return request with { Images = images, Formats = formats, Names = names };
    }

    /// <summary>Every image path and stated format, before the folder is touched or any qemu process runs (qemu-img would wait for ever for a FIFO's writer).</summary>
    private static void CheckImages(BackupRequest request)
    {
        if (request.Formats.Count > request.Images.Count)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, $"{request.Formats.Count} formats given for {request.Images.Count} images");
        }

        foreach (var format in request.Formats)
        {
            ImageFormats.CheckStated(format);
        }

        foreach (var image in request.Images)
        {
            ImageFile.Check(Path.GetFullPath(image), "image");
        }
    }

    /// <summary>A checkpoint is a bitmap written into the disk itself: say so before anything is done, not as qemu-img's failure.</summary>
    private static void CheckCheckpointsCanBeWritten(IEnumerable<DiskPlan> plans)
    {
        foreach (var plan in plans.Where(p => p.NextCheckpoint is not null))
        {
            if (WriteAccess.WhyNot(plan.Disk.Image) is { } why)
            {
                throw new OfflineExportException(ErrorKind.InvalidImage,
                    $"{plan.Disk.Name}: backup adds a checkpoint (a dirty bitmap) to {plan.Disk.Image} and cannot write it: {why}; make the image writable, or copy it with 'export', which writes nothing into the disk");
            }
        }
    }

    private static void PrepareFolder(string target, bool dryRun)
    {
        if (File.Exists(target))
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"backup target {target} is a file, not a folder");
        }

        if (!dryRun)
        {
            try
            {
                Directory.CreateDirectory(target);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot create backup folder {target}: {IoErrorText.Reason(ex)}", ex);
            }
        }
    }

    /// <summary>
    /// Reads every disk's chain as the format the caller stated, or else the one the folder recorded (qemu
    /// guesses only when neither exists), and checks it: not in use, structure, <c>qemu-img check</c> of every
    /// qcow2 layer. All before a checkpoint is added: a damaged or misread disk must not get a bitmap.
    /// </summary>
    private static async Task<IReadOnlyList<DiskSource>> ReadDisksAsync(
        QemuImg qemuImg, BackupManifest manifest, BackupRequest request, List<string> notes, List<string> warnings, CancellationToken cancellationToken)
    {
        var images = request.Images.Select(Path.GetFullPath).ToList();
        var stated = images.Select((_, i) => i < request.Formats.Count ? request.Formats[i] : null).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = new List<Task>();
        var sources = new List<SourceChain>();
        try
        {
            var disks = new List<DiskSource>();
            for (var i = 0; i < images.Count; i++)
            {
                var image = images[i];
                var name = i < request.Names.Count && request.Names[i] is { } named ? named : DiskSource.NameOf(image);
                var recorded = manifest.Disk(name)?.KnownFormat;
                if (stated[i] is { } given && recorded is not null && given != recorded)
                {
                    throw new OfflineExportException(ErrorKind.InvalidRequest,
                        $"{name}: the format given for {image} ({given}) contradicts the backup folder, which recorded this disk as {recorded}; a disk keeps one format within a backup folder: state {recorded}, or back the disk up into a new folder");
                }

                var format = stated[i] ?? recorded;
                var origin = stated[i] is not null ? FormatOrigin.Stated : recorded is not null ? FormatOrigin.Recorded : FormatOrigin.Detected;
                if (origin == FormatOrigin.Detected)
                {
                    ExportPreconditions.CheckDetectedHeader(image); // before qemu-img opens what a guest's header names
                }

                // What qemu would guess now, only to say so when it disagrees with the folder's record. A header that
                // names another file is not handed to qemu's probe (it would open that file too): its format is known.
                var probing = origin != FormatOrigin.Recorded ? null
                    : ProbeReferences.OfReadable(image)?.Format is { } known ? Task.FromResult(known)
                    : qemuImg.ProbeFormatAsync(image, stop.Token);
                if (probing is not null)
                {
                    started.Add(probing);
                }

                var source = await SourceChain.ReadAsync(qemuImg, image, format, checkLayers: true, stop.Token).ConfigureAwait(false);
                sources.Add(source);
                var chain = source.Layers;
                ChainValidator.ValidateStructure(chain);
                ExportPreconditions.CheckDetectedFormat(chain[0], image, detected: origin == FormatOrigin.Detected);
                RefuseBackupPoints(name, chain);
                if (probing is not null && await ProbedOrNullAsync(probing).ConfigureAwait(false) is { } probed && probed != chain[0].Format)
                {
                    warnings.Add($"{name}: read as {chain[0].Format}, the format the backup folder recorded, although qemu-img now detects {probed} in {image}: a guest can write a {probed} header into its {chain[0].Format} disk; if the disk really was converted, back it up into a new folder");
                }

                if (origin == FormatOrigin.Detected)
                {
                    notes.Add($"{name}: format {ImageFormats.Describe(chain[0].Format, origin)}");
                }

                disks.Add(new DiskSource(name, image, chain, origin)
                {
                    Identity = DiskIdentity.Of(image, chain[0].Format, chain[0].VirtualSize),
                    LayerIdentities = LayerIdentities(image, chain),
                });
            }

            await Task.WhenAll(sources.Select(source => source.LayerChecks)).ConfigureAwait(false);
            return disks;
        }
        finally
        {
            if (started.Any(t => !t.IsCompleted))
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }

            foreach (var task in started)
            {
                await SettledAsync(task).ConfigureAwait(false);
            }

            foreach (var source in sources)
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A point of a backup folder is no VM's disk: backing it up would write a checkpoint into it (and forget
    /// would later remove checkpoints from every layer), changing a file its folder then calls damaged. A top
    /// image with several names (hard links, or a file bind-mounted over another name) is refused too: any
    /// of them could be a point.
    /// </summary>
    /// <exception cref="OfflineExportException">A layer is a point (InvalidImage).</exception>
    private static void RefuseBackupPoints(string name, IReadOnlyList<ImageInfo> chain)
    {
        // The top takes the checkpoint, so it must have one name: a hard link or a file bind-mounted over its name
        // (same inode, one link, only its mount differs from its folder's) hides where else the file lives.
        if (Path.IsPathRooted(chain[0].Filename) && RealPath(chain[0].Filename) is var real && FileIdentity.Of(real) is { Kind: FileKind.Regular } top)
        {
            if (top.LinkCount > 1)
            {
                throw new OfflineExportException(ErrorKind.InvalidImage,
                    $"{name}: {chain[0].Filename} has {top.LinkCount} names (hard links); a backup writes a checkpoint into it, and another of its names could be a backup point or another VM's disk: back up a disk image with a single name");
            }

            if (top.MountId is { } mount && FileIdentity.Of(Path.GetDirectoryName(real)!)?.MountId is { } folderMount && mount != folderMount)
            {
                throw new OfflineExportException(ErrorKind.InvalidImage,
                    $"{name}: {chain[0].Filename} is a file bind-mounted from elsewhere; a backup writes a checkpoint into it, and the file it shows could be a backup point or another VM's disk: back up the disk image at its own path");
            }
        }

        foreach (var layer in chain.Where(l => Path.IsPathRooted(l.Filename)))
        {
            var file = RealPath(layer.Filename);
            var folder = Path.GetDirectoryName(file)!;
            if (!BackupFolderMarker.IsBackupFolder(folder))
            {
                continue;
            }

            BackupManifest manifest;
            try
            {
                manifest = ManifestStore.Load(folder);
            }
            catch (OfflineExportException)
            {
                continue; // not a manifest this tool can read: nothing says the file is a point
            }

            if (manifest.Disks.SelectMany(d => d.Points).Any(p => p.File == Path.GetFileName(file)))
            {
                throw new OfflineExportException(ErrorKind.InvalidImage,
                    $"{name}: {layer.Filename} is a point of the backup folder {folder}, not a VM's disk; a backup would write a checkpoint into it. Back up the VM's own disk, or copy a point with 'offline-export restore'");
            }
        }
    }

    /// <summary>The file <paramref name="path"/> names, symlinks followed to the end.</summary>
    private static string RealPath(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    /// <summary>The identities of the chain's layers that can be examined, top first.</summary>
    private static IReadOnlyList<DiskIdentity> LayerIdentities(string image, IReadOnlyList<ImageInfo> chain)
    {
        var folder = Path.GetDirectoryName(image)!;
        return chain.Select(layer => DiskIdentity.Of(Path.GetFullPath(layer.Filename, folder), layer.Format, layer.VirtualSize)).OfType<DiskIdentity>().ToList();
    }

    /// <summary>The probed format, or null when the probe failed: it only adds a warning, never a refusal.</summary>
    private static async Task<string?> ProbedOrNullAsync(Task<string> probing)
    {
        try
        {
            return await probing.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is QemuImgException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Waits for a task started ahead that is no longer needed; its error, if any, was reported where it was awaited.</summary>
    private static async Task SettledAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // See above.
        }
    }

    private async Task<IReadOnlyList<BackupDiskResult>> BackUpAllOrNothingAsync(
        QemuImg qemuImg,
        BackupManifest manifest,
        IReadOnlyList<DiskPlan> plans,
        IReadOnlyList<BackupSeeds.Import> imports,
        string target,
        BackupRequest request,
        IProgress<DiskProgress>? progress,
        List<string> warnings,
        CancellationToken cancellationToken)
    {
        var added = new List<DiskPlan>();
        var stalled = new HashSet<DiskPlan>();
        var pending = new List<string>();
        var placed = new List<string>();
        var manifestSaved = false;
        // Written before each step that adds something: a run killed at any point leaves a list of it.
        var record = new BackupRunRecord { Owner = ProcessIdentity.Current, StartTime = DateTimeOffset.UtcNow };
        var holds = new List<IDisposable>();
        void ReleaseHolds()
        {
            foreach (var hold in holds)
            {
                hold.Dispose();
            }

            holds.Clear();
        }

        try
        {
            // The next window starts before the chain is opened for this one: a write in between lands
            // in both (a superset), never in neither.
            foreach (var plan in plans.Where(p => p.NextCheckpoint is not null))
            {
                cancellationToken.ThrowIfCancellationRequested();
                record = record.With(new RunCheckpoint(plan.Disk.Name, plan.Disk.Image, plan.Disk.Chain[0].Format, plan.NextCheckpoint!));
                record.Save(target);
                // Listed for removal before it is written: an add that failed half way is undone too (or left to the next run).
                added.Add(plan);
                try
                {
                    await qemuImg.AddBitmapAsync(plan.Disk.Image, plan.Disk.Chain[0].Format, plan.NextCheckpoint!).ConfigureAwait(false);
                }
                catch (CommandStalledException)
                {
                    // Its storage stopped answering: a removal now would wait as long again, so the next run removes it.
                    stalled.Add(plan);
                    throw;
                }
            }

            cancellationToken.ThrowIfCancellationRequested(); // the adds ran to their end; a Ctrl-C during one stops here

            // From here until the points are recorded, a VM started on these disks fails at once (qemu cannot
            // get the write lock) instead of writing under the backup. Released before any bitmap is written.
            foreach (var plan in plans)
            {
                try
                {
                    if (QemuImageLocks.HoldAgainstWriters(plan.Disk.Image) is { } hold)
                    {
                        holds.Add(hold);
                    }
                }
                catch (IOException ex)
                {
                    warnings.Add($"{plan.Disk.Name}: could not hold {plan.Disk.Image} against a VM start during the backup: {ex.Message}");
                }
            }

            // Seeds go in place before the exports: each new point's backing file is its seed, by name.
            foreach (var import in imports)
            {
                RefuseForeignFile(target, import.File);
                record = record.WithFile(import.File);
                record.Save(target);
                using (var copy = PartialOutput.For(Path.Combine(target, import.File)))
                {
                    try
                    {
                        File.Copy(import.Source, copy.Path);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot copy seed {import.Source} into {target}: {IoErrorText.Reason(ex)}", ex);
                    }

                    copy.Publish(overwrite: false);
                }

                placed.Add(Path.Combine(target, import.File));
                var seeded = manifest.Disks.First(d => d.Points.Any(p => p.File == import.File));
                var digest = await DigestAsync(Path.Combine(target, import.File), cancellationToken).ConfigureAwait(false);
                manifest = manifest.WithDisk(seeded with { Points = [.. seeded.Points.Select(p => p.File == import.File ? p with { FileSha256 = digest.Sha256, FileSize = digest.Size } : p)] });
            }

            string PendingPath(DiskPlan plan)
            {
                // Our own leftovers were removed by KilledRunRecovery; anything still there is not ours to replace.
                RefuseForeignFile(target, plan.File);
                record = record.WithFile(plan.File + ".pending").WithFile(plan.File);
                record.Save(target);
                return Path.Combine(target, plan.File + ".pending");
            }

            var exports = new List<ExportResult>();
            var done = new List<DiskPlan>();
            for (var i = 0; i < plans.Count; i++)
            {
                var diskProgress = progress is null ? null : new DiskProgressAdapter(progress, plans[i].Disk.Name, i, plans.Count);
                var (plan, export) = await ExportOrFullAsync(plans[i], target, PendingPath, request, diskProgress, warnings, cancellationToken).ConfigureAwait(false);
                done.Add(plan);
                exports.Add(export);
                pending.Add(Path.Combine(target, plan.File + ".pending"));
            }

            plans = done;

            // Everything exported: put the points in place, then record them.
            var now = DateTimeOffset.UtcNow;
            var results = new List<BackupDiskResult>();
            for (var i = 0; i < plans.Count; i++)
            {
                var final = Path.Combine(target, plans[i].File);
                // Taken of the finished file before it becomes the point: check and restore prove it by this.
                var digest = await DigestAsync(pending[i], cancellationToken).ConfigureAwait(false);
                // Never over a file that appeared meanwhile: a point name is taken only by its own point.
                OutputFile.Publish(pending[i], final, overwrite: false);
                placed.Add(final);
                var point = Record(plans[i], exports[i], now) with { FileSha256 = digest.Sha256, FileSize = digest.Size };
                manifest = manifest.WithDisk(UpdatedDisk(manifest.Disk(plans[i].Disk.Name), plans[i], point));
                results.Add(new BackupDiskResult(plans[i], point, exports[i]));
            }

            ManifestStore.Save(target, manifest);
            manifestSaved = true;
            ReleaseHolds();
            BackupRunRecord.Delete(target);
            return results;
        }
        catch (Exception failure) when (!manifestSaved)
        {
            ReleaseHolds();
            foreach (var path in pending.Concat(placed))
            {
                OutputFile.TryDelete(path);
            }

            var allRemoved = true;
            foreach (var plan in added)
            {
                allRemoved &= !stalled.Contains(plan) && await RemoveCheckpointQuietlyAsync(qemuImg, plan).ConfigureAwait(false);
            }

            // What could not be undone stays listed, for the next run to remove.
            if (allRemoved)
            {
                BackupRunRecord.Delete(target);
            }
            else if (!cancellationToken.IsCancellationRequested && (failure as OfflineExportException ?? FailureTranslation.ToUserError(failure)) is { } error)
            {
                throw new OfflineExportException(error.Kind, $"{error.Message}; the new checkpoint could not be removed from every disk: the next backup into {target} removes it", failure);
            }

            throw;
        }
        finally
        {
            ReleaseHolds();
        }
    }

    /// <summary>
    /// Exports the plan's point; when the export finds a change the checkpoint did not see, an automatic
    /// run makes the same point as a full one instead (with a warning), a run that asked for the level refuses.
    /// </summary>
    private async Task<(DiskPlan Plan, ExportResult Export)> ExportOrFullAsync(
        DiskPlan plan, string target, Func<DiskPlan, string> output, BackupRequest request, IProgress<ExportProgress>? progress, List<string> warnings, CancellationToken cancellationToken)
    {
        try
        {
            return (plan, await ExportAsync(plan, target, output(plan), request, progress, cancellationToken).ConfigureAwait(false));
        }
        catch (OfflineExportException ex) when (ex.Kind == ErrorKind.UntrackedChange && plan.Level != PointLevel.Full)
        {
            var why = ex.Message.EndsWith(UntrackedChangeCheck.Advice, StringComparison.Ordinal) ? ex.Message[..^UntrackedChangeCheck.Advice.Length] : ex.Message;
            if (request.Level != BackupLevel.Auto)
            {
                var kind = plan.Level == PointLevel.Diff ? "a differential" : "an incremental";
                throw new OfflineExportException(ErrorKind.UntrackedChange, $"{plan.Disk.Name}: cannot make {kind} point: {why}", ex);
            }

            var full = BackupPlanner.FullInstead(plan, why);
            warnings.Add(full.Warning!);
            return (full, await ExportAsync(full, target, output(full), request, progress, cancellationToken).ConfigureAwait(false));
        }
    }

    private static async Task<FileDigest> DigestAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await FileChecksum.ComputeAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot read back {path} to record its checksum: {IoErrorText.Reason(ex)}", ex);
        }
    }

    /// <summary>What is wrong with the files of <paramref name="point"/>'s chain (headers only), or null; a seed about to be copied is sound.</summary>
    private static string? ChainProblem(string target, BackupManifest manifest, PointRecord point, IReadOnlyList<BackupSeeds.Import> imports)
    {
        if (imports.Any(i => i.File == point.File))
        {
            return null;
        }

        var disk = manifest.Disks.First(d => d.Points.Contains(point));
        return PointFiles.FirstDamage(target, disk, point) is not { } damage ? null
            : damage.Member == point ? damage.What
            : $"it needs point {damage.Member.Number} ({damage.Member.File}): {damage.What}";
    }

    /// <summary>Refuses to go on when a point's name (or its pending name) is taken by a file the manifest does not record.</summary>
    private static void RefuseForeignFile(string target, string file)
    {
        foreach (var name in new[] { file, file + ".pending" })
        {
            var path = Path.Combine(target, name);
            if (File.Exists(path) || Directory.Exists(path) || FileIdentity.OfLink(path) is not null)
            {
                throw new OfflineExportException(ErrorKind.BackupFolderProblem,
                    $"{path} is in the way of the next point, and the manifest does not record it; offline-export never replaces a file it did not make: move it out of the folder");
            }
        }
    }

    private async Task<ExportResult> ExportAsync(DiskPlan plan, string target, string output, BackupRequest request, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        var export = new ExportRequest
        {
            Image = plan.Disk.Image,
            Format = plan.Disk.Chain[0].Format,
            LayersChecked = true, // by ReadDisksAsync, before the checkpoint was added
            Output = output,
            Bitmaps = plan.Checkpoints,
            Backing = plan.BackingPoint is null ? null : Path.Combine(target, plan.BackingPoint.File),
            Verify = request.Verify,
            DryRun = request.DryRun,
        };
        return await new ExportSession(_options).RunAsync(export, progress, cancellationToken).ConfigureAwait(false);
    }

    private static PointRecord Record(DiskPlan plan, ExportResult export, DateTimeOffset now) => new()
    {
        Number = plan.Number,
        File = plan.File,
        Level = plan.Level,
        BackingPoint = plan.BackingPoint?.Number,
        CheckpointsUsed = plan.Checkpoints,
        CheckpointCreated = plan.NextCheckpoint,
        Source = plan.Disk.Image,
        Disk = plan.Disk.Identity,
        VirtualSize = (long)export.VirtualSize,
        BytesCopied = export.BytesCopied,
        BytesZeroed = export.BytesZeroed,
        StartTime = export.StartTime,
        EndTime = now,
        ToolVersion = ToolInfo.NameAndVersion,
        Verified = export.Verified,
    };

    private static DiskRecord UpdatedDisk(DiskRecord? record, DiskPlan plan, PointRecord point) => new()
    {
        Name = plan.Disk.Name,
        Source = plan.Disk.Image,
        Format = plan.Disk.Chain[0].Format,
        VirtualSize = point.VirtualSize,
        CurrentCheckpoint = plan.NextCheckpoint,
        Points = [.. record?.Points ?? [], point],
    };

    private async Task<bool> RemoveCheckpointQuietlyAsync(QemuImg qemuImg, DiskPlan plan)
    {
        try
        {
            // An add that failed may have written nothing: only a checkpoint that is there is removed.
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await qemuImg.RemoveBitmapIfPresentAsync(plan.Disk.Image, plan.Disk.Chain[0].Format, plan.NextCheckpoint!, deadline.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The run record keeps it listed: the next run removes it.
            _options.Log?.Invoke($"could not remove checkpoint {plan.NextCheckpoint} from {plan.Disk.Image}: {ex.Message}");
            return false;
        }
    }

    /// <summary>
    /// --keep-checkpoints: removes what <see cref="CheckpointRetention"/> names from each disk's top image.
    /// Failures here are warnings: the points are already safe.
    /// </summary>
    private static async Task<IReadOnlyList<string>> PruneCheckpointsAsync(
        QemuImg qemuImg, BackupManifest manifest, IReadOnlyList<DiskPlan> plans, int keep, (Virsh Virsh, string Domain, string Name)? libvirt, List<string> warnings, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var plan in plans.Where(p => p.NextCheckpoint is not null))
        {
            // Every layer's checkpoints as read before this run: after an external snapshot the old ones sit below the top.
            var present = plan.Disk.Chain.SelectMany(l => l.Bitmaps).Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
            var disk = manifest.Disk(plan.Disk.Name)!;
            var old = CheckpointRetention.ToRemove(disk, manifest.Folder, keep, present).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, layer) in await CheckpointRemoval.RemoveAsync(qemuImg, disk, b => old.Contains(b.Name), warnings, cancellationToken).ConfigureAwait(false))
            {
                removed.Add(CheckpointRemoval.Describe(disk.Name, name, layer));
                names.Add(name);
            }
        }

        if (libvirt is { } registered)
        {
            // Only checkpoints this folder made are removed above; libvirt forgets those, and no other.
            await LibvirtCheckpointRecords.ForgetAsync(registered.Virsh, registered.Domain, registered.Name, names, warnings, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>
    /// After the points are safe: keeps the domain's XML in the folder, and registers the checkpoint this
    /// run added with libvirt (parent: libvirt's current checkpoint), so the domain's next live incremental
    /// continues from this backup. Failures are warnings: the points are already in place.
    /// </summary>
    private static async Task RegisterWithLibvirtAsync(
        Virsh virsh, LibvirtDomain domain, string target, IReadOnlyList<DiskPlan> plans, IReadOnlyList<BackupDiskResult> results, List<string> warnings, CancellationToken cancellationToken)
    {
        try
        {
            using var xml = PartialOutput.For(Path.Combine(target, LibvirtDomain.XmlFileName(results[0].Point!.EndTime)));
            await File.WriteAllTextAsync(xml.Path, domain.Xml, cancellationToken).ConfigureAwait(false);
            xml.Publish(overwrite: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"domain {domain.Name}: could not keep its XML in {target}: {IoErrorText.Reason(ex)}");
        }

        var added = plans.Where(p => p.NextCheckpoint is not null).Select(p => (Disk: p.Disk.Name, Bitmap: p.NextCheckpoint!)).ToList();
        if (added.Count == 0)
        {
            return; // raw disks only: no checkpoint to register
        }

        var name = added[0].Bitmap;
        try
        {
            await virsh.RedefineCheckpointAsync(domain.Uuid, name, domain.CurrentCheckpoint, DateTimeOffset.UtcNow, added, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The token is the finishing deadline's alone: a cancellation here is libvirt not answering in time.
            var why = ex is OperationCanceledException ? $"libvirt did not answer within {FinishingDeadline.TotalSeconds:0} s" : ex.Message;
            warnings.Add($"domain {domain.Name}: checkpoint {name} is not registered with libvirt, so its next live incremental cannot start from this backup: {why}");
        }
    }
}
