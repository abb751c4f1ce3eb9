import { openSync, closeSync, writeSync } from 'node:fs';

/** The exit code qemu returns when the boot sector writes to isa-debug-exit: (0x2a << 1) | 1. */
export const BOOT_SECTOR_EXIT_CODE = 85;
const DEBUG_EXIT_VALUE = 0x2a;

/**
 * A 512-byte MBR boot sector (16-bit real mode, loaded at 0x7c00) that writes `marker`
 * and CRLF to COM1 (port 0x3f8), then ends qemu through isa-debug-exit (port 0xf4)
 * with BOOT_SECTOR_EXIT_CODE, and halts should that device be missing.
 */
export function bootSector(marker: string): Buffer {
  const code = Buffer.from([
    0xfa, //                  cli
    0x31, 0xc0, //            xor ax, ax
    0x8e, 0xd8, //            mov ds, ax
    0xfc, //                  cld
    0xbe, 0x1d, 0x7c, //      mov si, 0x7c1d        (the message, right after the code)
    0xba, 0xf8, 0x03, //      mov dx, 0x3f8
    0xac, //          next:   lodsb
    0x84, 0xc0, //            test al, al
    0x74, 0x03, //            jz done
    0xee, //                  out dx, al
    0xeb, 0xf8, //            jmp next
    0xba, 0xf4, 0x00, // done: mov dx, 0xf4
    0xb0, DEBUG_EXIT_VALUE, // mov al, 0x2a
    0xee, //                  out dx, al
    0xf4, //          halt:   hlt
    0xeb, 0xfd, //            jmp halt
  ]);
  if (code.length !== 0x1d) throw new Error(`boot sector code is ${code.length} bytes, expected 0x1d`);
  if (!/^[\x20-\x7e]+$/.test(marker)) throw new Error('marker must be printable ASCII');
  const message = Buffer.from(`${marker}\r\n\0`, 'latin1');
  if (code.length + message.length > 510) throw new Error('marker too long for a boot sector');
  const sector = Buffer.alloc(512);
  code.copy(sector, 0);
  message.copy(sector, code.length);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** Writes the boot sector over the first 512 bytes of `file` in place (tgtd keeps its open descriptor). */
export function writeBootSector(file: string, marker: string): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bootSector(marker), 0, 512, 0);
  } finally {
    closeSync(fd);
  }
}
