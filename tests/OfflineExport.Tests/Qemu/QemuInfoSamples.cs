namespace OfflineExport.Tests.Qemu;

/// <summary>
/// Hand-written <c>qemu-img info --output=json</c> texts following qemu 7.2's layout
/// (field order, indentation and the extra fields qemu prints).
/// </summary>
internal static class QemuInfoSamples
{
    /// <summary><c>qemu-img info --backing-chain --output=json /var/lib/vm/top.qcow2</c>: qcow2 top, qcow2 mid, raw base.</summary>
    public const string ThreeLayerChain = """
        [
            {
                "virtual-size": 10737418240,
                "filename": "/var/lib/vm/top.qcow2",
                "cluster-size": 65536,
                "format": "qcow2",
                "actual-size": 200704,
                "format-specific": {
                    "type": "qcow2",
                    "data": {
                        "compat": "1.1",
                        "compression-type": "zlib",
                        "lazy-refcounts": false,
                        "bitmaps": [
                            {
                                "flags": [
                                    "auto"
                                ],
                                "name": "b1",
                                "granularity": 65536
                            },
                            {
                                "flags": [
                                    "auto"
                                ],
                                "name": "b2",
                                "granularity": 131072
                            }
                        ],
                        "refcount-bits": 16,
                        "corrupt": false,
                        "extended-l2": false
                    }
                },
                "full-backing-filename": "/var/lib/vm/mid.qcow2",
                "backing-filename": "mid.qcow2",
                "backing-filename-format": "qcow2",
                "dirty-flag": false
            },
            {
                "virtual-size": 10737418240,
                "filename": "/var/lib/vm/mid.qcow2",
                "cluster-size": 65536,
                "format": "qcow2",
                "actual-size": 1052672,
                "format-specific": {
                    "type": "qcow2",
                    "data": {
                        "compat": "1.1",
                        "compression-type": "zlib",
                        "lazy-refcounts": false,
                        "bitmaps": [
                            {
                                "flags": [
                                    "auto"
                                ],
                                "name": "b1",
                                "granularity": 65536
                            }
                        ],
                        "refcount-bits": 16,
                        "corrupt": false,
                        "extended-l2": false
                    }
                },
                "full-backing-filename": "/var/lib/vm/base.raw",
                "backing-filename": "base.raw",
                "backing-filename-format": "raw",
                "dirty-flag": false
            },
            {
                "virtual-size": 10737418240,
                "filename": "/var/lib/vm/base.raw",
                "format": "raw",
                "actual-size": 2101248,
                "dirty-flag": false
            }
        ]

        """;

    /// <summary><c>qemu-img info --output=json</c> without <c>--backing-chain</c>: one object, no array.</summary>
    public const string SingleObject = """
        {
            "virtual-size": 1073741824,
            "filename": "/var/lib/vm/disk.qcow2",
            "cluster-size": 65536,
            "format": "qcow2",
            "actual-size": 397312,
            "format-specific": {
                "type": "qcow2",
                "data": {
                    "compat": "1.1",
                    "compression-type": "zlib",
                    "lazy-refcounts": false,
                    "bitmaps": [
                        {
                            "flags": [
                                "auto"
                            ],
                            "name": "checkpoint-1",
                            "granularity": 65536
                        }
                    ],
                    "refcount-bits": 16,
                    "corrupt": false,
                    "extended-l2": false
                }
            },
            "dirty-flag": false
        }

        """;

    /// <summary>A qcow2 image whose process died while it was open read-write: bitmaps marked in-use.</summary>
    public const string InUseBitmaps = """
        [
            {
                "virtual-size": 1073741824,
                "filename": "/var/lib/vm/crashed.qcow2",
                "cluster-size": 65536,
                "format": "qcow2",
                "actual-size": 397312,
                "format-specific": {
                    "type": "qcow2",
                    "data": {
                        "compat": "1.1",
                        "compression-type": "zlib",
                        "lazy-refcounts": false,
                        "bitmaps": [
                            {
                                "flags": [
                                    "in-use",
                                    "auto"
                                ],
                                "name": "b1",
                                "granularity": 65536
                            },
                            {
                                "flags": [
                                    "in-use"
                                ],
                                "name": "b-disabled",
                                "granularity": 65536
                            },
                            {
                                "flags": [
                                ],
                                "name": "b-off",
                                "granularity": 4096
                            }
                        ],
                        "refcount-bits": 16,
                        "corrupt": false,
                        "extended-l2": false
                    }
                },
                "dirty-flag": false
            }
        ]

        """;

    /// <summary>A qcow2 image qemu has marked corrupt.</summary>
    public const string Corrupt = """
        [
            {
                "virtual-size": 1073741824,
                "filename": "/var/lib/vm/broken.qcow2",
                "cluster-size": 65536,
                "format": "qcow2",
                "actual-size": 397312,
                "format-specific": {
                    "type": "qcow2",
                    "data": {
                        "compat": "1.1",
                        "compression-type": "zlib",
                        "lazy-refcounts": false,
                        "refcount-bits": 16,
                        "corrupt": true,
                        "extended-l2": false
                    }
                },
                "dirty-flag": true
            }
        ]

        """;

    /// <summary>A LUKS-encrypted qcow2 as qemu-img 7.2 describes it (key slots shortened to two).</summary>
    public const string Encrypted = """
        [
            {
                "virtual-size": 16777216,
                "filename": "/var/lib/vm/enc.qcow2",
                "cluster-size": 65536,
                "format": "qcow2",
                "actual-size": 2297856,
                "format-specific": {
                    "type": "qcow2",
                    "data": {
                        "compat": "1.1",
                        "compression-type": "zlib",
                        "lazy-refcounts": false,
                        "refcount-bits": 16,
                        "encrypt": {
                            "ivgen-alg": "plain64",
                            "hash-alg": "sha256",
                            "cipher-alg": "aes-256",
                            "uuid": "069ddeb1-3cfc-4b85-b7ee-af1e2c001ab5",
                            "format": "luks",
                            "cipher-mode": "xts",
                            "slots": [
                                { "active": true, "iters": 7472748, "key-offset": 4096, "stripes": 4000 },
                                { "active": false, "key-offset": 262144 }
                            ],
                            "payload-offset": 2068480,
                            "master-key-iters": 1782539
                        },
                        "corrupt": false,
                        "extended-l2": false
                    }
                },
                "encrypted": true,
                "dirty-flag": false
            }
        ]

        """;

    /// <summary>qemu-img check --output=json of a qcow2 truncated after its metadata.</summary>
    public const string CheckOfTruncated = """
        {
            "image-end-offset": 327680,
            "total-clusters": 256,
            "corruptions": 64,
            "check-errors": 0,
            "allocated-clusters": 64,
            "filename": "/var/lib/vm/t.qcow2",
            "format": "qcow2"
        }

        """;
}
