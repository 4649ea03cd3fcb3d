package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/config"
)

// PushOptions say where and how Push writes the dashboards.
type PushOptions struct {
	// URL is Grafana's base URL (https://grafana.example.com).
	URL string
	// Token is a Grafana service-account token, sent as a bearer token
	// and nowhere else.
	Token config.Secret
	// DryRun reads what Grafana has and reports what Push would do,
	// without writing.
	DryRun bool
	// Message is the version message Grafana keeps with each change.
	Message string
	// Client is the HTTP client (default: one with a 30s timeout).
	Client *http.Client
	// Log receives one line per folder and dashboard (may be nil).
	Log io.Writer
}

// Actions Push reports for a dashboard or folder.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionUnchanged = "unchanged"
)

// PushResult is what Push did (or, in a dry run, would do) with one
// dashboard.
type PushResult struct {
	UID, Title string
	// Action is ActionCreate, ActionUpdate or ActionUnchanged.
	Action string
	// Version is the dashboard's version in Grafana afterwards (0 in a
	// dry run of a creation).
	Version int
	// URL is where the dashboard is, as Grafana answered (path only).
	URL string
}

// APIError is an answer from Grafana other than success.
type APIError struct {
	// Op is what was attempted ("creating folder Gatewatch").
	Op string
	// Status is the HTTP status code.
	Status int
	// Message and Reason are Grafana's message and status fields.
	Message, Reason string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("%s: Grafana answered %d: %s", e.Op, e.Status, msg)
	switch {
	case e.Status == http.StatusUnauthorized:
		s += "; the token is missing, expired or not a valid service-account token (--token-file, --token-env)"
	case e.Status == http.StatusForbidden:
		s += "; the service account lacks the permission: it needs the Editor role, or write access to the folder"
	case e.Status == http.StatusPreconditionFailed && e.Reason == "version-mismatch":
		s += "; the dashboard was changed in Grafana while gatewatch pushed it: push again to overwrite that change"
	case e.Status == http.StatusPreconditionFailed && e.Reason == "name-exists":
		s += "; another dashboard of the folder has this title: rename or delete it, or set grafana.folder to another folder"
	case e.Status == http.StatusPreconditionFailed:
		s += "; a conflicting change in Grafana: push again"
	}
	return s
}

// Push creates or updates the dashboards of s in Grafana through its HTTP
// API, in the folder titled s.Folder, creating the folder when it is
// missing. A dashboard Grafana already has with the same content is left
// alone, so pushing twice changes nothing; an update names the version it
// replaces, so a change made in Grafana at the same moment is reported
// (412) instead of lost.
func Push(ctx context.Context, s *Set, o PushOptions) ([]PushResult, error) {
	base, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("grafana URL %q is not an http(s) URL such as https://grafana.example.com", redactURL(o.URL))
	}
	c := &client{base: base, token: o.Token, http: o.Client}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	dry := ""
	if o.DryRun {
		dry = " (dry run)"
	}

	folder, action, err := c.folder(ctx, s.Folder, o.DryRun)
	if err != nil {
		return nil, err
	}
	if action != ActionUnchanged {
		logf("%s folder %q (uid %s)%s", action, s.Folder, folder, dry)
	}

	var out []PushResult
	for i := range s.Dashboards {
		d := &s.Dashboards[i]
		r, err := c.dashboard(ctx, d, folder, o.Message, o.DryRun)
		if err != nil {
			return out, err
		}
		logf("%s %s %q (uid %s, version %d)%s", r.Action, d.Kind, d.Title, d.UID, r.Version, dry)
		out = append(out, r)
	}
	return out, nil
}

type client struct {
	base  *url.URL
	token config.Secret
	http  *http.Client
}

// do sends a request with a JSON body (when in is not nil) and decodes a
// 200 answer into out. Any other status is an *APIError.
func (c *client) do(ctx context.Context, op, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: encoding the request: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, redacted
		}
		return fmt.Errorf("%s: cannot reach Grafana at %s: %w", op, redactURL(c.base.String()), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s: reading Grafana's answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message, Status string }
		_ = json.Unmarshal(b, &e) // a non-JSON answer leaves the status text
		return &APIError{Op: op, Status: resp.StatusCode, Message: e.Message, Reason: e.Status}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s: Grafana's answer is not the JSON expected: %w", op, err)
		}
	}
	return nil
}

func notFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// folder finds the folder titled title, by its derived uid or else by
// title among the folders (one created by hand), and creates it when
// there is none. It returns the folder's uid.
func (c *client) folder(ctx context.Context, title string, dry bool) (string, string, error) {
	uid := FolderUID(title)
	err := c.do(ctx, fmt.Sprintf("reading folder %q", title), http.MethodGet, "/api/folders/"+url.PathEscape(uid), nil, nil)
	if err == nil {
		return uid, ActionUnchanged, nil
	}
	if !notFound(err) {
		return "", "", err
	}
	var all []struct{ UID, Title string }
	if err := c.do(ctx, "listing folders", http.MethodGet, "/api/folders?limit=1000", nil, &all); err != nil {
		return "", "", err
	}
	for _, f := range all {
		if f.Title == title {
			return f.UID, ActionUnchanged, nil
		}
	}
	if dry {
		return uid, ActionCreate, nil
	}
	in := map[string]string{"uid": uid, "title": title}
	if err := c.do(ctx, fmt.Sprintf("creating folder %q", title), http.MethodPost, "/api/folders", in, nil); err != nil {
		return "", "", err
	}
	return uid, ActionCreate, nil
}

// dashboard creates or updates one dashboard in folder.
func (c *client) dashboard(ctx context.Context, d *Dashboard, folder, message string, dry bool) (PushResult, error) {
	r := PushResult{UID: d.UID, Title: d.Title}
	var cur struct {
		Dashboard map[string]any `json:"dashboard"`
		Meta      struct {
			FolderUID string `json:"folderUid"`
			URL       string `json:"url"`
		} `json:"meta"`
	}
	err := c.do(ctx, fmt.Sprintf("reading dashboard %s", d.UID), http.MethodGet, "/api/dashboards/uid/"+url.PathEscape(d.UID), nil, &cur)
	exists := err == nil
	if err != nil && !notFound(err) {
		return r, err
	}
	want, err := d.JSON()
	if err != nil {
		return r, err
	}
	var model map[string]any
	if err := json.Unmarshal(want, &model); err != nil {
		return r, fmt.Errorf("dashboard %s: %w", d.UID, err)
	}
	r.Action = ActionCreate
	if exists {
		r.Action = ActionUpdate
		version, _ := cur.Dashboard["version"].(float64)
		r.Version, r.URL = int(version), cur.Meta.URL
		if cur.Meta.FolderUID == folder && sameModel(cur.Dashboard, model) {
			r.Action = ActionUnchanged
			return r, nil
		}
		// The version read: Grafana refuses the save (412) if the
		// dashboard changed since.
		model["version"] = version
	}
	if dry {
		return r, nil
	}
	in := map[string]any{"dashboard": model, "folderUid": folder, "message": message, "overwrite": false}
	var res struct {
		Version int    `json:"version"`
		URL     string `json:"url"`
	}
	if err := c.do(ctx, fmt.Sprintf("saving dashboard %s (%s)", d.UID, d.Title), http.MethodPost, "/api/dashboards/db", in, &res); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Message), "folder") {
			return r, fmt.Errorf("%w; the folder (uid %s) is missing: it was deleted while gatewatch pushed, push again to create it", err, folder)
		}
		return r, err
	}
	r.Version, r.URL = res.Version, res.URL
	return r, nil
}

// sameModel compares a stored dashboard with a generated one, leaving out
// what Grafana sets (id, version).
func sameModel(stored, generated map[string]any) bool {
	strip := func(m map[string]any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			if k != "id" && k != "version" {
				out[k] = v
			}
		}
		return out
	}
	return reflect.DeepEqual(strip(stored), strip(generated))
}

// redactURL hides a password in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
