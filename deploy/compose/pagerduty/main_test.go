package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const key = "R0UTINGKEY0123456789abcdefsecret" // 32 characters

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(url+"/v2/enqueue", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
	return res.StatusCode, m
}

func incidents(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url + "/incidents")
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func TestReceiver(t *testing.T) {
	srv := httptest.NewServer(newReceiver())
	defer srv.Close()

	code, m := post(t, srv.URL, `{"routing_key":"`+key+`","event_action":"trigger","dedup_key":"d1","payload":{"summary":"[FIRING:1] GatewatchAvailabilityBudgetBurn","source":"Alertmanager","severity":"critical"}}`)
	require.Equal(t, 202, code)
	require.Equal(t, "d1", m["dedup_key"])
	list := incidents(t, srv.URL)
	require.Contains(t, list, `"status": "triggered"`)
	require.Contains(t, list, "GatewatchAvailabilityBudgetBurn")
	require.NotContains(t, list, key, "the routing key is never returned")
	require.Contains(t, list, "…cret")

	code, _ = post(t, srv.URL, `{"routing_key":"`+key+`","event_action":"resolve","dedup_key":"d1"}`)
	require.Equal(t, 202, code)
	require.Contains(t, incidents(t, srv.URL), `"status": "resolved"`)

	// A trigger without dedup_key gets one.
	code, m = post(t, srv.URL, `{"routing_key":"`+key+`","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info"}}`)
	require.Equal(t, 202, code)
	require.Len(t, m["dedup_key"], 32)

	for _, tc := range []struct{ body, want string }{
		{`{"routing_key":"short","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info"}}`, "routing_key must be a 32-character integration key"},
		{`{"routing_key":"` + key + `","event_action":"fire"}`, "event_action must be"},
		{`{"routing_key":"` + key + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"high"}}`, "payload.severity must be"},
		{`{"routing_key":"` + key + `","event_action":"trigger"}`, "payload is missing"},
		{`{"routing_key":"` + key + `","event_action":"acknowledge"}`, "dedup_key is required to acknowledge"},
		{`not json`, "body is not a JSON event"},
	} {
		code, m := post(t, srv.URL, tc.body)
		require.Equal(t, 400, code, tc.body)
		b, _ := json.Marshal(m["errors"])
		require.Contains(t, string(b), tc.want)
		require.NotContains(t, string(b), key)
	}
}

// FuzzEnqueue posts arbitrary bodies: the answer is 202 or 400, never a
// panic, and never echoes a routing key.
func FuzzEnqueue(f *testing.F) {
	f.Add(`{"routing_key":"` + key + `","event_action":"trigger","dedup_key":"d","payload":{"summary":"s","source":"x","severity":"info"}}`)
	f.Add(`{"routing_key":"R","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info"}}`)
	f.Add(`{"routing_key":"` + key + `","event_action":"resolve","dedup_key":"d"}`)
	r := newReceiver()
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v2/enqueue", strings.NewReader(body)))
		require.Contains(t, []int{202, 400}, rec.Code)
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
		list := httptest.NewRecorder()
		r.ServeHTTP(list, httptest.NewRequest(http.MethodGet, "/incidents", nil))
		require.NotContains(t, list.Body.String(), key)
	})
}
