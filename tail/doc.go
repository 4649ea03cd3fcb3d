// Package tail follows log files across rotation and truncation and records
// durable checkpoints of what a consumer has acknowledged.
//
// A Tailer turns a set of paths and glob patterns (and "-" for standard
// input) into one stream of Lines. Each file is identified by a fingerprint
// of its first line (see FileID), not by its name or inode, so a file renamed
// by logrotate and still matched by a glob is continued, not read again, and a
// reused inode is not mistaken for the file that had it before.
//
// Every Line carries the half-open byte range [Offset, End) it occupies in its
// file. Consumers acknowledge ranges, in any order, through Tailer.Ack (or
// automatically when the handler returns, see Options.ManualAck); the
// checkpoint records, per file, the end of the contiguously acknowledged
// prefix and is written atomically, so a restart resumes exactly there.
package tail
