// Package loader reads a gateway contract from a file, telling KrakenD, Kong
// and Envoy configurations apart by their content.
package loader

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/envoy"
	"github.com/gatewatch/gatewatch/contract/kong"
	"github.com/gatewatch/gatewatch/contract/krakend"
)

// Formats are the values Load accepts as format.
var Formats = []string{"auto", "krakend", "kong", "envoy"}

// Options are the loader settings that only some formats use.
type Options struct {
	// KrakenD flexible configuration folders.
	KrakenD krakend.Options
}

// Load reads the contract at path. format is "auto" (or "") to detect the
// gateway from the content, or one of krakend, kong and envoy.
func Load(path, format string, opts Options) (*contract.Contract, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading contract: %w", err)
	}
	return Parse(path, data, format, opts)
}

// Parse reads a contract from data; path names it in errors.
func Parse(path string, data []byte, format string, opts Options) (*contract.Contract, error) {
	if format == "" || format == "auto" {
		f, err := Detect(path, data)
		if err != nil {
			return nil, err
		}
		format = f
	}
	switch format {
	case "krakend":
		return krakend.Load(path, data, opts.KrakenD)
	case "kong":
		return kong.Load(path, data)
	case "envoy":
		return envoy.Load(path, data)
	}
	return nil, fmt.Errorf("%s: unknown contract format %q; expected one of %s", path, format, strings.Join(Formats, ", "))
}

// Detect tells which gateway a configuration is for.
func Detect(path string, data []byte) (string, error) {
	switch {
	case krakend.Detect(data):
		return "krakend", nil
	case kong.Detect(data):
		return "kong", nil
	case envoy.Detect(data):
		return "envoy", nil
	}
	// A file that does not parse still says what it was meant to be; let
	// that gateway's loader report where it breaks.
	for _, h := range textHints {
		if bytes.Contains(data, []byte(h.marker)) {
			return h.format, nil
		}
	}
	hint := ""
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yml", ".yaml":
		if kongName(path) {
			hint = " The file is named like a Kong configuration but has no _format_version; it may be a docker-compose file or Helm values."
		}
	}
	return "", fmt.Errorf("%s: cannot tell which gateway this configuration is for: expected a KrakenD config (\"version\" and \"endpoints\"), a Kong declarative config (\"_format_version\") or an Envoy bootstrap (\"static_resources\"); pass --format to choose.%s", path, hint)
}

// textHints are keys that only one gateway's configuration has.
var textHints = []struct{ marker, format string }{
	{"_format_version", "kong"},
	{"static_resources", "envoy"},
	{`"endpoints"`, "krakend"},
	{`"extra_config"`, "krakend"},
}

func kongName(path string) bool {
	return strings.Contains(strings.ToLower(filepath.Base(path)), "kong")
}
