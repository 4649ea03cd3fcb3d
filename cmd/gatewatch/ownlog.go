package main

import (
	"io"
	"log/slog"
)

// Values of --log.format, the format of a command's own log.
var ownLogFormats = []string{"text", "json"}

// ownLogger is a command's own log on w, in format json or text
// (--log.format), from level up.
func ownLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	ho := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}
