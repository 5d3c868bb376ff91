// The encryption-at-rest seam of the fragment store: src/kms implements it; the store only calls it right before
// a write and right after a read, and keeps what it returns (data key id, nonce, tag) in the fragment's index row.

/** How one fragment was sealed. Ciphertext is as long as the plaintext, so offsets and sizes do not change. */
export type FragmentSealing = { dataKeyId: number; nonce: Uint8Array; tag: Uint8Array };

export interface FragmentCipher {
  /**
   * The bytes to write for a fragment (its parts, encrypted as one message), or null to store them as they are
   * (encryption off). Throws KmsKeyError when the stream's key is missing, disabled or cannot be unwrapped.
   */
  seal(streamId: number, fragmentNumber: string, parts: readonly Uint8Array[]): ({ bytes: Uint8Array } & FragmentSealing) | null;
  /** The plaintext of a sealed fragment. Throws KmsKeyError for key problems, Error when the bytes fail authentication. */
  open(streamId: number, fragmentNumber: string, sealing: FragmentSealing, bytes: Uint8Array): Uint8Array;
}
