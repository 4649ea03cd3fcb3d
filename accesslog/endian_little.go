//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package accesslog

// littleEndian enables the word-at-a-time string scans, which read the
// input eight bytes at a time as a little-endian word (unaligned loads).
const littleEndian = true
