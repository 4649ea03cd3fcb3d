package dashboards

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

var uidUnsafe = regexp.MustCompile(`[^a-z0-9]+`)

// FolderUID is the uid of the Grafana folder titled title: "gwf-", a slug
// of the title (at most 26 characters) and the first 8 hex digits of its
// SHA-256, within Grafana's 40 characters. Provisioning and Push use the
// same uid, so both put the dashboards in the same folder.
func FolderUID(title string) string {
	slug := strings.Trim(uidUnsafe.ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(slug) > 26 {
		slug = strings.TrimRight(slug[:26], "-")
	}
	h := sha256.Sum256([]byte(title))
	if slug == "" {
		return "gwf-" + hex.EncodeToString(h[:4])
	}
	return "gwf-" + slug + "-" + hex.EncodeToString(h[:4])
}
