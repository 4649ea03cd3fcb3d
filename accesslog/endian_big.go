//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package accesslog

// littleEndian is false: the string scans read a byte at a time.
const littleEndian = false
