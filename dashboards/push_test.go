package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
)

const (
	editorToken = "glsa_editor_0123456789abcdef"
	viewerToken = "glsa_viewer_0123456789abcdef"
)

// fakeGrafana is a strict implementation of the parts of Grafana's HTTP
// API that Push uses, with Grafana's answers: bearer tokens (401 for an
// unknown one, 403 for a viewer writing), folders by uid (404 when
// missing, 409 for a duplicate uid or title), dashboards by uid, and
// POST /api/dashboards/db with Grafana's checks: only the known fields,
// a dashboard with uid and title, an existing folderUid (400 otherwise),
// and without overwrite a 412 version-mismatch when the version sent is
// not the stored one, or a 412 name-exists when another dashboard of the
// folder has the title.
type fakeGrafana struct {
	t  *testing.T
	mu sync.Mutex
	// folders by uid: title.
	folders map[string]string
	// dashboards by uid.
	dashboards map[string]storedDashboard
	nextID     int
	// writes counts POSTs.
	writes int
	// beforeSave runs before a dashboard save is checked (to simulate a
	// concurrent change).
	beforeSave func(f *fakeGrafana, uid string)
	// seen collects every request line and header, to check the token
	// appears only in Authorization.
	seen bytes.Buffer
}

type storedDashboard struct {
	model     map[string]any
	folderUID string
	version   int
}

func newFakeGrafana(t *testing.T) (*fakeGrafana, *httptest.Server) {
	f := &fakeGrafana{t: t, folders: map[string]string{}, dashboards: map[string]storedDashboard{}, nextID: 1}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func msg(w http.ResponseWriter, code int, status, message string) {
	m := map[string]string{"message": message}
	if status != "" {
		m["status"] = status
	}
	writeJSON(w, code, m)
}

func (f *fakeGrafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(&f.seen, "%s %s\n", r.Method, r.URL.String())
	for k, vs := range r.Header {
		if k != "Authorization" {
			fmt.Fprintf(&f.seen, "%s: %s\n", k, strings.Join(vs, ","))
		}
	}
	var role string
	switch r.Header.Get("Authorization") {
	case "Bearer " + editorToken:
		role = "Editor"
	case "Bearer " + viewerToken:
		role = "Viewer"
	default:
		msg(w, http.StatusUnauthorized, "", "invalid API key")
		return
	}
	if r.Method == http.MethodPost {
		f.writes++
		if role != "Editor" {
			msg(w, http.StatusForbidden, "", "You'll need additional permissions to perform this action. Permissions needed: dashboards:create")
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			msg(w, http.StatusUnsupportedMediaType, "", "bad content type")
			return
		}
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/api/folders":
		var out []map[string]any
		for uid, title := range f.folders {
			out = append(out, map[string]any{"id": 1, "uid": uid, "title": title})
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/api/folders/"):
		uid := strings.TrimPrefix(path, "/api/folders/")
		title, ok := f.folders[uid]
		if !ok {
			msg(w, http.StatusNotFound, "", "folder not found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": 1, "uid": uid, "title": title})
	case r.Method == http.MethodPost && path == "/api/folders":
		var in struct {
			UID   string `json:"uid"`
			Title string `json:"title"`
		}
		if !f.decode(w, r, &in) {
			return
		}
		if in.Title == "" || len(in.UID) > 40 {
			msg(w, http.StatusBadRequest, "", "folder title cannot be empty or uid too long")
			return
		}
		if _, ok := f.folders[in.UID]; ok {
			msg(w, http.StatusConflict, "", "a folder with the same uid already exists")
			return
		}
		for _, t := range f.folders {
			if t == in.Title {
				msg(w, http.StatusConflict, "", "a folder or dashboard in the general folder with the same name already exists")
				return
			}
		}
		f.folders[in.UID] = in.Title
		writeJSON(w, http.StatusOK, map[string]any{"id": 1, "uid": in.UID, "title": in.Title})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/api/dashboards/uid/"):
		uid := strings.TrimPrefix(path, "/api/dashboards/uid/")
		d, ok := f.dashboards[uid]
		if !ok {
			msg(w, http.StatusNotFound, "not-found", "Dashboard not found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"dashboard": d.model, "meta": map[string]any{"folderUid": d.folderUID, "url": "/d/" + uid + "/x"}})
	case r.Method == http.MethodPost && path == "/api/dashboards/db":
		f.save(w, r)
	default:
		msg(w, http.StatusNotFound, "", "Not found")
	}
}

func (f *fakeGrafana) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg(w, http.StatusBadRequest, "", "bad request data: "+err.Error())
		return false
	}
	return true
}

func (f *fakeGrafana) save(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Dashboard map[string]any `json:"dashboard"`
		FolderUID string         `json:"folderUid"`
		Message   string         `json:"message"`
		Overwrite bool           `json:"overwrite"`
	}
	if !f.decode(w, r, &in) {
		return
	}
	uid, _ := in.Dashboard["uid"].(string)
	title, _ := in.Dashboard["title"].(string)
	if uid == "" || title == "" || len(uid) > 40 {
		msg(w, http.StatusBadRequest, "", "dashboard uid and title are required")
		return
	}
	if f.beforeSave != nil {
		f.beforeSave(f, uid)
	}
	if in.FolderUID != "" {
		if _, ok := f.folders[in.FolderUID]; !ok {
			msg(w, http.StatusBadRequest, "", "folder not found")
			return
		}
	}
	old, exists := f.dashboards[uid]
	if !in.Overwrite {
		if exists {
			v, _ := in.Dashboard["version"].(float64)
			if int(v) != old.version {
				msg(w, http.StatusPreconditionFailed, "version-mismatch", "The dashboard has been changed by someone else")
				return
			}
		}
		for ou, od := range f.dashboards {
			if ou != uid && od.folderUID == in.FolderUID && od.model["title"] == title {
				msg(w, http.StatusPreconditionFailed, "name-exists", "A dashboard with the same name in the folder already exists")
				return
			}
		}
	}
	version := 1
	id := f.nextID
	if exists {
		version = old.version + 1
		id = int(old.model["id"].(float64))
	} else {
		f.nextID++
	}
	m := map[string]any{}
	for k, v := range in.Dashboard {
		m[k] = v
	}
	m["id"], m["version"] = float64(id), float64(version)
	f.dashboards[uid] = storedDashboard{model: m, folderUID: in.FolderUID, version: version}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "uid": uid, "url": "/d/" + uid + "/x", "status": "success", "version": version, "slug": "x"})
}

func push(t *testing.T, url, token string, dry bool) ([]PushResult, string, error) {
	t.Helper()
	var log bytes.Buffer
	rs, err := Push(context.Background(), generateShop(t), PushOptions{URL: url, Token: config.Secret(token), DryRun: dry, Message: "gatewatch test", Log: &log})
	return rs, log.String(), err
}

func actions(rs []PushResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Action)
	}
	return out
}

func TestPushCreatesThenIsIdempotent(t *testing.T) {
	f, srv := newFakeGrafana(t)

	rs, log, err := push(t, srv.URL, editorToken, true)
	require.NoError(t, err)
	require.Equal(t, []string{ActionCreate, ActionCreate, ActionCreate, ActionCreate}, actions(rs))
	require.Zero(t, f.writes, "a dry run writes nothing")
	require.Contains(t, log, `create folder "Shop"`)
	require.Contains(t, log, "(dry run)")

	rs, log, err = push(t, srv.URL, editorToken, false)
	require.NoError(t, err)
	require.Equal(t, []string{ActionCreate, ActionCreate, ActionCreate, ActionCreate}, actions(rs))
	require.Equal(t, "Shop", f.folders[FolderUID("Shop")])
	require.Len(t, f.dashboards, 4)
	for _, r := range rs {
		require.Equal(t, 1, r.Version)
		require.Equal(t, FolderUID("Shop"), f.dashboards[r.UID].folderUID)
	}
	require.Contains(t, log, "create overview")
	require.Equal(t, 5, f.writes)

	rs, _, err = push(t, srv.URL, editorToken, false)
	require.NoError(t, err)
	require.Equal(t, []string{ActionUnchanged, ActionUnchanged, ActionUnchanged, ActionUnchanged}, actions(rs))
	require.Equal(t, 5, f.writes, "pushing the same dashboards again writes nothing")

	// Someone edits the endpoint dashboard in Grafana (version 2): the
	// next push restores it, naming the version it replaces.
	d := f.dashboards[rs[1].UID]
	d.model["title"], d.version, d.model["version"] = "edited by hand", 2, float64(2)
	f.dashboards[rs[1].UID] = d
	rs, _, err = push(t, srv.URL, editorToken, false)
	require.NoError(t, err)
	require.Equal(t, []string{ActionUnchanged, ActionUpdate, ActionUnchanged, ActionUnchanged}, actions(rs))
	require.Equal(t, 3, rs[1].Version)
	require.Equal(t, rs[1].Title, f.dashboards[rs[1].UID].model["title"])
	require.NotContains(t, f.seen.String(), editorToken, "the token went somewhere besides the Authorization header")
}

// TestPushUsesFolderMadeByHand: a folder with the title but another uid
// (made in the UI) is used, not duplicated.
func TestPushUsesFolderMadeByHand(t *testing.T) {
	f, srv := newFakeGrafana(t)
	f.folders["abc123"] = "Shop"
	_, _, err := push(t, srv.URL, editorToken, false)
	require.NoError(t, err)
	require.Len(t, f.folders, 1)
	for _, d := range f.dashboards {
		require.Equal(t, "abc123", d.folderUID)
	}
}

func TestPushErrors(t *testing.T) {
	t.Run("401", func(t *testing.T) {
		_, srv := newFakeGrafana(t)
		_, _, err := push(t, srv.URL, "glsa_wrong_secret_value", false)
		require.ErrorContains(t, err, `reading folder "Shop": Grafana answered 401: invalid API key; the token is missing, expired or not a valid service-account token`)
		require.NotContains(t, err.Error(), "glsa_wrong_secret_value")
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, http.StatusUnauthorized, ae.Status)
	})
	t.Run("403", func(t *testing.T) {
		_, srv := newFakeGrafana(t)
		_, _, err := push(t, srv.URL, viewerToken, false)
		require.ErrorContains(t, err, `creating folder "Shop": Grafana answered 403:`)
		require.ErrorContains(t, err, "the service account lacks the permission")
		require.NotContains(t, err.Error(), viewerToken)
	})
	t.Run("412 version-mismatch", func(t *testing.T) {
		f, srv := newFakeGrafana(t)
		_, _, err := push(t, srv.URL, editorToken, false)
		require.NoError(t, err)
		edit := func(f *fakeGrafana, uid string) {
			d := f.dashboards[uid]
			d.version++
			d.model["version"] = float64(d.version)
			d.model["title"] = "changed meanwhile"
			f.dashboards[uid] = d
		}
		// A first change read by Push, a second one while it pushes.
		edit(f, rules0(t))
		f.beforeSave = edit
		_, _, err = push(t, srv.URL, editorToken, false)
		require.ErrorContains(t, err, "Grafana answered 412: The dashboard has been changed by someone else; the dashboard was changed in Grafana while gatewatch pushed it")
	})
	t.Run("412 name-exists", func(t *testing.T) {
		f, srv := newFakeGrafana(t)
		f.folders[FolderUID("Shop")] = "Shop"
		f.dashboards["other"] = storedDashboard{model: map[string]any{"uid": "other", "title": "shop-gateway overview", "id": float64(9), "version": float64(1)}, folderUID: FolderUID("Shop"), version: 1}
		_, _, err := push(t, srv.URL, editorToken, false)
		require.ErrorContains(t, err, "Grafana answered 412: A dashboard with the same name in the folder already exists; another dashboard of the folder has this title")
	})
	t.Run("missing folder", func(t *testing.T) {
		f, srv := newFakeGrafana(t)
		f.beforeSave = func(f *fakeGrafana, _ string) { delete(f.folders, FolderUID("Shop")) }
		_, _, err := push(t, srv.URL, editorToken, false)
		require.ErrorContains(t, err, "Grafana answered 400: folder not found; the folder (uid "+FolderUID("Shop")+") is missing")
	})
	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		_, _, err = push(t, "http://admin:hunter2@"+addr, editorToken, false)
		require.ErrorContains(t, err, "cannot reach Grafana at http://admin:xxxxx@"+addr)
		require.ErrorContains(t, err, "connection refused")
		require.NotContains(t, err.Error(), "hunter2")
		require.NotContains(t, err.Error(), editorToken)
		require.False(t, errors.Is(err, context.Canceled))
	})
	t.Run("bad URL", func(t *testing.T) {
		_, _, err := push(t, "grafana.example.com", editorToken, false)
		require.ErrorContains(t, err, `grafana URL "grafana.example.com" is not an http(s) URL`)
	})
}

// rules0 is the uid of the shop gateway's overview.
func rules0(t *testing.T) string { return generateShop(t).Dashboards[0].UID }
