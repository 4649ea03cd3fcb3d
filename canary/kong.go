package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatewatch/gatewatch/config"
)

// KongTokenHeader is the header Kong Enterprise's Admin API reads its RBAC
// token from.
const KongTokenHeader = "Kong-Admin-Token"

// KongAdmin talks to Kong's Admin API.
type KongAdmin struct {
	// URL is the Admin API's base URL (http://kong-admin:8001, or with a
	// workspace: http://kong-admin:8001/team-a).
	URL string
	// Token is sent as Kong-Admin-Token when set.
	Token config.Secret
	// Client sends the requests (http.DefaultClient when nil).
	Client *http.Client
}

// RemoveTarget deletes target (host:port, or its id) from upstream (name
// or id): what a failed canary's pipeline does to send no more traffic to
// it. Kong answers 204 when the target is gone; an unknown upstream or
// target is a 404, reported as such.
func (k *KongAdmin) RemoveTarget(ctx context.Context, upstream, target string) error {
	if upstream == "" || target == "" {
		return errors.New("both the upstream and the target must be named")
	}
	base, err := url.Parse(k.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("Kong Admin API URL %q is not an http(s) URL such as http://kong-admin:8001", redactURL(k.URL))
	}
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + "/upstreams/" + upstream + "/targets/" + target
	u.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + "/upstreams/" + url.PathEscape(upstream) + "/targets/" + url.PathEscape(target)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.String(), nil)
	if err != nil {
		return fmt.Errorf("building the Kong Admin API request: %w", err)
	}
	if k.Token != "" {
		req.Header.Set(KongTokenHeader, k.Token.Reveal())
	}
	c := k.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("removing target %q from Kong upstream %q at %s: %w", target, upstream, u.Redacted(), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("Kong has no upstream %q or no target %q in it (404 from %s%s)", upstream, target, u.Redacted(), kongMessage(body))
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("Kong refused to remove target %q from upstream %q (%d; check the admin token)%s", target, upstream, resp.StatusCode, kongMessage(body))
	}
	return fmt.Errorf("Kong answered %d removing target %q from upstream %q%s", resp.StatusCode, target, upstream, kongMessage(body))
}

// kongMessage returns ": <message>" from Kong's JSON error body.
func kongMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) != nil || m.Message == "" {
		return ""
	}
	return ": " + m.Message
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
