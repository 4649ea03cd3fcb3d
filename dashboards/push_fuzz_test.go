package dashboards

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzPushAnswers gives Push arbitrary Grafana answers (status and body)
// to its reads and checks that it returns a result or an error, never
// panics, and never repeats the token.
func FuzzPushAnswers(f *testing.F) {
	f.Add(200, []byte(`{"dashboard":{"uid":"x","title":"t","version":3},"meta":{"folderUid":"gwf-shop-d00aae6b","url":"/d/x/t"}}`), []byte(`[{"uid":"a","title":"Shop"}]`))
	f.Add(404, []byte(`{"message":"Dashboard not found"}`), []byte(`[]`))
	f.Add(412, []byte(`{"message":"x","status":"version-mismatch"}`), []byte(`null`))
	f.Add(500, []byte(`<html>`), []byte(`{}`))
	s := generateShop(f)
	f.Fuzz(func(t *testing.T, status int, body, folders []byte) {
		if status < 100 || status > 599 {
			return
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPost:
				_, _ = w.Write([]byte(`{"status":"success","version":1}`))
			case r.URL.Path == "/api/folders":
				_, _ = w.Write(folders)
			default:
				w.WriteHeader(status)
				_, _ = w.Write(body)
			}
		}))
		defer srv.Close()
		rs, err := Push(context.Background(), s, PushOptions{URL: srv.URL, Token: editorToken})
		if err != nil {
			if strings.Contains(err.Error(), editorToken) {
				t.Fatalf("the token is in the error: %v", err)
			}
			return
		}
		if len(rs) != len(s.Dashboards) {
			t.Fatalf("%d results for %d dashboards", len(rs), len(s.Dashboards))
		}
	})
}
