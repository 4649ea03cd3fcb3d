package estest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func do(t *testing.T, s *Server, method, path, ctype, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	b, err := io.ReadAll(w.Result().Body)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	require.Equal(t, "Elasticsearch", w.Result().Header.Get("X-Elastic-Product"))
	return w.Code, v
}

func reason(v map[string]any) string {
	e, _ := v["error"].(map[string]any)
	r, _ := e["reason"].(string)
	return r
}

func statuses(v map[string]any) []int {
	var out []int
	for _, it := range v["items"].([]any) {
		for _, r := range it.(map[string]any) {
			out = append(out, int(r.(map[string]any)["status"].(float64)))
		}
	}
	return out
}

const nd = "application/x-ndjson"

func TestBulkStrictness(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		status            int
		reason            string
	}{
		{"no final newline", nd, `{"create":{"_index":"a","_id":"1"}}` + "\n" + `{"x":1}`, 400, "The bulk request must be terminated by a newline [\\n]"},
		{"empty body", nd, "", 400, "Validation Failed: 1: no requests added;"},
		{"action not an object", nd, "\"create\"\n{}\n", 400, "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]"},
		{"unknown action", nd, `{"upsert":{"_index":"a"}}` + "\n{}\n", 400, "Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [upsert]"},
		{"unknown parameter", nd, `{"create":{"_index":"a","_type":"doc"}}` + "\n{}\n", 400, "Action/metadata line [1] contains an unknown parameter [_type]"},
		{"missing source", nd, `{"create":{"_index":"a","_id":"1"}}` + "\n", 400, "action/metadata line [1] has no source line"},
		{"missing index", nd, `{"create":{"_id":"1"}}` + "\n{}\n", 400, "Validation Failed: 1: index is missing;"},
		{"third line malformed", nd, `{"create":{"_index":"a","_id":"1"}}` + "\n{}\n{bad\n{}\n", 400, "Malformed action/metadata line [3]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			defer s.Close()
			code, v := do(t, s, "POST", "/_bulk", tc.ctype, tc.body)
			require.Equal(t, tc.status, code)
			require.Contains(t, reason(v), tc.reason)
			require.Equal(t, float64(tc.status), v["status"])
			require.Zero(t, s.Count("*"), "a refused request stores nothing")
		})
	}
}

func TestBulkContentType(t *testing.T) {
	s := New()
	defer s.Close()
	code, _ := do(t, s, "POST", "/_bulk", "text/plain", `{"create":{"_index":"a","_id":"1"}}`+"\n{}\n")
	require.Equal(t, 406, code)
	for _, ct := range []string{nd, "application/json", "application/json; charset=UTF-8", "application/vnd.elasticsearch+x-ndjson; compatible-with=8"} {
		code, _ := do(t, s, "POST", "/_bulk", ct, `{"index":{"_index":"a","_id":"1"}}`+"\n{}\n")
		require.Equal(t, 200, code, ct)
	}
}

func TestBulkItems(t *testing.T) {
	s := New()
	defer s.Close()
	body := `{"create":{"_index":"a","_id":"1"}}` + "\n" + `{"n":1}` + "\n" +
		`{"create":{"_index":"a","_id":"1"}}` + "\n" + `{"n":2}` + "\n" + // conflict in a
		`{"create":{"_index":"b","_id":"1"}}` + "\n" + `{"n":3}` + "\n" + // same id, other index: stored
		`{"create":{"_index":"a","_id":"2"}}` + "\n" + `{"n":"text"}` + "\n" + // n is long now
		`{"create":{"_id":"3"}}` + "\n" + `not json` + "\n" +
		`{"delete":{"_index":"a","_id":"9"}}` + "\n"
	code, v := do(t, s, "POST", "/a/_bulk", nd, body)
	require.Equal(t, 200, code)
	require.Equal(t, true, v["errors"])
	require.Equal(t, []int{201, 409, 201, 400, 400, 404}, statuses(v))
	require.Equal(t, map[string]int{"1": 2}, s.IDs("a,b"))

	code, v = do(t, s, "POST", "/_bulk", nd, `{"create":{"_index":"a","_id":"4"}}`+"\n{}\n")
	require.Equal(t, 200, code)
	require.Equal(t, false, v["errors"])
}

func TestDataStream(t *testing.T) {
	s := New()
	defer s.Close()
	code, v := do(t, s, "PUT", "/_index_template/t", "application/json", `{"index_patterns":["logs-x-*"],"priority":200,"data_stream":{},"template":{"mappings":{"properties":{"@timestamp":{"type":"date"}}}}}`)
	require.Equal(t, 200, code, v)
	code, v = do(t, s, "PUT", "/_index_template/t2", "application/json", `{"index_patterns":["logs-*"],"priority":200}`)
	require.Equal(t, 400, code, "overlapping patterns with the same priority")
	require.Contains(t, reason(v), "same priority")

	doc := `{"@timestamp":"2026-11-22T10:00:00Z"}`
	_, v = do(t, s, "POST", "/_bulk", nd,
		`{"create":{"_index":"logs-x-default","_id":"1"}}`+"\n"+doc+"\n"+
			`{"index":{"_index":"logs-x-default","_id":"2"}}`+"\n"+doc+"\n"+
			`{"create":{"_index":"logs-x-default","_id":"3"}}`+"\n{}\n"+
			`{"create":{"_index":"logs-x-default","_id":"4"}}`+"\n"+`{"@timestamp":"yesterday"}`+"\n")
	require.Equal(t, []int{201, 400, 400, 400}, statuses(v))
	require.Len(t, s.DataStream("logs-x-default"), 1)

	code, v = do(t, s, "POST", "/logs-x-default/_rollover", "", "")
	require.Equal(t, 200, code, v)
	_, v = do(t, s, "POST", "/_bulk", nd, `{"create":{"_index":"logs-x-default","_id":"1"}}`+"\n"+doc+"\n")
	require.Equal(t, []int{201}, statuses(v), "after a rollover the same _id is accepted again")
	require.Equal(t, map[string]int{"1": 2}, s.IDs("logs-x-default"))
}

func TestAliasesAndPolicies(t *testing.T) {
	s := New()
	defer s.Close()
	code, v := do(t, s, "PUT", "/_ilm/policy/p", "application/json", `{"policy":{"phases":{"delete":{"min_age":"30d","actions":{"delete":{}}}}}}`)
	require.Equal(t, 200, code, v)
	code, _ = do(t, s, "PUT", "/_ilm/policy/p", "application/json", `{"policy":{"phases":{"lukewarm":{"actions":{}}}}}`)
	require.Equal(t, 400, code)
	code, _ = do(t, s, "PUT", "/_index_template/t", "application/json", `{"index_patterns":["logs-*"],"template":{"aliases":{"logs":{}}},"unknown":1}`)
	require.Equal(t, 400, code, "unknown template fields are refused")
	code, _ = do(t, s, "PUT", "/_index_template/t", "application/json", `{"index_patterns":["logs-*"],"template":{"aliases":{"logs":{}}}}`)
	require.Equal(t, 200, code)
	_, v = do(t, s, "POST", "/_bulk", nd,
		`{"create":{"_index":"logs-1","_id":"1"}}`+"\n{}\n"+
			`{"create":{"_index":"logs-2","_id":"1"}}`+"\n{}\n"+
			`{"create":{"_index":"logs","_id":"2"}}`+"\n{}\n")
	require.Equal(t, []int{201, 201, 400}, statuses(v), "no write index behind a two-index alias")
	require.Equal(t, []string{"logs-1", "logs-2"}, s.Aliases("logs"))
	code, v = do(t, s, "GET", "/logs/_count", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, 2.0, v["count"])
	code, v = do(t, s, "GET", "/", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, Version, v["version"].(map[string]any)["number"])
}

func TestFaultsOverHTTP(t *testing.T) {
	s := New()
	defer s.Close()
	s.SetFaults(Faults{RequestStatus: 429, RequestCount: 1, Item500: 1})
	post := func() (*http.Response, error) {
		return http.Post(s.URL+"/_bulk", nd, strings.NewReader(`{"create":{"_index":"a","_id":"1"}}`+"\n{}\n"))
	}
	res, err := post()
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 429, res.StatusCode)
	res, err = post()
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&v))
	res.Body.Close()
	require.Equal(t, []int{500}, statuses(v))
	s.SetFaults(Faults{ResetCount: 1})
	_, err = post()
	require.Error(t, err, "the connection is reset")
	s.SetFaults(Faults{})
	res, err = post()
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, 1, s.Count("a"))
}

// FuzzBulk checks that any body gets an Elasticsearch-shaped answer:
// 200 with one item per action, or an error with a reason; never a panic.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{
		`{"create":{"_index":"a","_id":"1"}}` + "\n{}\n",
		`{"index":{"_index":"a"}}` + "\n" + `{"a":{"b":1}}` + "\n" + `{"delete":{"_index":"a","_id":"1"}}` + "\n",
		"\n\n", "{}\n{}\n", `{"create":[]}` + "\n{}\n", `{"create":{"_index":1}}` + "\n{}\n",
		`{"create":{"_index":"A"}}` + "\n{}\n",
	} {
		f.Add(s)
	}
	s := New()
	defer s.Close()
	f.Fuzz(func(t *testing.T, body string) {
		code, v := do(t, s, "POST", "/_bulk", nd, body)
		switch code {
		case 200:
			require.Contains(t, v, "items")
		case 400:
			require.NotEmpty(t, reason(v))
		default:
			t.Fatalf("status %d", code)
		}
	})
}
