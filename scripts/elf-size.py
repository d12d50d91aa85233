#!/usr/bin/env python3
"""Print the text, data and bss sizes of an ELF file, as `size` does.

Fallback for machines without llvm-size or arm-none-eabi-size. Sums the
sizes of allocated sections: read-only ones count as text (code and
constants in flash), writable NOBITS ones as bss (RAM only) and the other
writable ones as data (flash and RAM).
"""

import struct
import sys

SHT_NOBITS = 8
SHF_WRITE = 0x1
SHF_ALLOC = 0x2


def section_sizes(path):
    with open(path, "rb") as f:
        image = f.read()
    if image[:4] != b"\x7fELF":
        raise ValueError(f"{path}: not an ELF file")
    is_64 = image[4] == 2
    endian = "<" if image[5] == 1 else ">"

    if is_64:
        shoff, = struct.unpack_from(endian + "Q", image, 0x28)
        shentsize, shnum = struct.unpack_from(endian + "HH", image, 0x3A)
        header_format = endian + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(endian + "I", image, 0x20)
        shentsize, shnum = struct.unpack_from(endian + "HH", image, 0x2E)
        header_format = endian + "IIIIIIIIII"

    text = data = bss = 0
    for index in range(shnum):
        fields = struct.unpack_from(header_format, image, shoff + index * shentsize)
        sh_type, sh_flags, sh_size = fields[1], fields[2], fields[5]
        if not sh_flags & SHF_ALLOC:
            continue
        if sh_type == SHT_NOBITS:
            bss += sh_size
        elif sh_flags & SHF_WRITE:
            data += sh_size
        else:
            text += sh_size
    return text, data, bss


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: elf-size.py FILE")
    path = sys.argv[1]
    text, data, bss = section_sizes(path)
    print(f"{'text':>10} {'data':>10} {'bss':>10} {'dec':>10} filename")
    print(f"{text:>10} {data:>10} {bss:>10} {text + data + bss:>10} {path}")


if __name__ == "__main__":
    main()
