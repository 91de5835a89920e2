// Byte-addressed reads of binding 0 (packed weights, tables, caches whose rows need not be 4-byte
// aligned). With 8/16-bit storage the loads are native; otherwise bytes are shifted out of
// 32-bit words. Offsets are in bytes; 16-bit loads need even offsets (every GGUF block is).
layout(binding = 0) readonly buffer Bytes32 { uint b32[]; };
#if USE_16BIT
layout(binding = 0) readonly buffer Bytes16 { uint16_t b16[]; };
#endif
#if USE_8BIT
layout(binding = 0) readonly buffer Bytes8 { uint8_t b8[]; };
#endif

uint ld16(uint byte_offset) {
#if USE_16BIT
  return uint(b16[byte_offset >> 1]);
#else
  return (b32[byte_offset >> 2] >> ((byte_offset & 2u) * 8u)) & 0xffffu;
#endif
}

uint ld8(uint byte_offset) {
#if USE_8BIT
  return uint(b8[byte_offset]);
#elif USE_16BIT
  return (uint(b16[byte_offset >> 1]) >> ((byte_offset & 1u) * 8u)) & 0xffu;
#else
  return (b32[byte_offset >> 2] >> ((byte_offset & 3u) * 8u)) & 0xffu;
#endif
}

// Four bytes at an even offset, little-endian.
uint ld32(uint byte_offset) {
  if ((byte_offset & 3u) == 0u) return b32[byte_offset >> 2];
  return ld16(byte_offset) | (ld16(byte_offset + 2u) << 16);
}

int ld8_signed(uint byte_offset) { return int(ld8(byte_offset) << 24) >> 24; }
float ld_f16(uint byte_offset) { return half_to_float(ld16(byte_offset)); }
