/**
 * Telling the three model-file formats apart by their first bytes, so that a reader given another
 * format's file says what the file is and which function reads it, rather than failing on its bytes.
 *
 * @packageDocumentation
 */

/** A format this library reads, and the function that reads it. */
export type FileFormat = 'torch' | 'safetensors' | 'npy';

const READER: Readonly<Record<FileFormat, string>> = { torch: 'loadTorch', safetensors: 'loadSafetensors', npy: 'loadNpy' };
const NAME: Readonly<Record<FileFormat, string>> = { torch: 'torch.save', safetensors: 'safetensors', npy: 'numpy .npy' };

/** The format `bytes` start like, or undefined for none of them (PyTorch's legacy format counts as torch). */
export function sniffFormat(bytes: Uint8Array): FileFormat | 'torch-legacy' | undefined {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'torch';
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return 'torch-legacy';
  if (bytes.length >= 6 && String.fromCharCode(...bytes.subarray(0, 6)) === '\x93NUMPY') return 'npy';
  // safetensors: an 8-byte little-endian header length (its high bytes zero for any real header), then '{'.
  if (bytes.length >= 9 && bytes[8] === 0x7b && bytes[6] === 0 && bytes[7] === 0) return 'safetensors';
  return undefined;
}

/**
 * Throws when `bytes` are plainly a file of another format than `expected`, naming it and its reader
 * (`this is a torch.save file, not a safetensors file; read it with loadTorch`). Returns otherwise, so
 * the caller's own checks report a damaged file of its format.
 */
export function refuseOtherFormat(bytes: Uint8Array, expected: FileFormat): void {
  const found = sniffFormat(bytes);
  if (found === undefined || found === expected) return;
  if (found === 'torch-legacy') {
    throw new Error(
      `this is a torch.save file in PyTorch's legacy format, not a ${NAME[expected]} file; re-save it with a current ` +
        'PyTorch (torch.save(torch.load(path), new_path)) and read it with loadTorch',
    );
  }
  const looks = found === 'safetensors' ? 'this looks like' : 'this is';
  throw new Error(`${looks} a ${NAME[found]} file, not a ${NAME[expected]} file; read it with ${READER[found]}`);
}
