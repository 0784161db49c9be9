#!/usr/bin/env python3
"""Writes a synthetic rootfs tar of about SIZE bytes (default 1 GiB) to stdout.

Shaped like a distribution image: a few thousand directories, many small files (most under
64 KiB), some large ones, symlinks and hard links; contents are pseudo-random so compression
does not flatter anyone. Deterministic for a given seed.
"""
import io
import random
import sys
import tarfile

size = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 30
rng = random.Random(20261126)
block = rng.randbytes(64 << 20)  # a pool to slice file contents from (fast, still incompressible)

out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
def add(info, data=b""):
    info.mtime = 1700000000
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    out.addfile(info, io.BytesIO(data) if data else None)

dirs = []
for top in ("bin", "etc", "lib", "usr", "usr/bin", "usr/lib", "usr/share", "var", "opt"):
    d = tarfile.TarInfo(top); d.type = tarfile.DIRTYPE; d.mode = 0o755; add(d); dirs.append(top)
for i in range(3000):
    parent = rng.choice(dirs)
    name = f"{parent}/d{i}"
    d = tarfile.TarInfo(name); d.type = tarfile.DIRTYPE; d.mode = 0o755; add(d); dirs.append(name)

written = 0
n = 0
files = []
while written < size:
    r = rng.random()
    if r < 0.90:
        fsize = int(rng.expovariate(1 / 6000))           # small files
    elif r < 0.999:
        fsize = int(rng.expovariate(1 / 150000))         # libraries
    else:
        fsize = int(rng.uniform(4 << 20, 48 << 20))      # a few big ones
    fsize = min(fsize, size - written) if size - written > 0 else 0
    off = rng.randrange(0, len(block) - fsize) if fsize < len(block) else 0
    name = f"{rng.choice(dirs)}/f{n}"
    info = tarfile.TarInfo(name); info.size = fsize; info.mode = 0o755 if r > 0.85 else 0o644
    add(info, block[off:off + fsize])
    files.append(name)
    written += fsize
    n += 1
    if n % 50 == 0:
        s = tarfile.TarInfo(f"{rng.choice(dirs)}/l{n}"); s.type = tarfile.SYMTYPE; s.linkname = "../" + name
        add(s)
    if n % 200 == 0:
        h = tarfile.TarInfo(f"{name}.hard"); h.type = tarfile.LNKTYPE; h.linkname = name
        add(h)
out.close()
