package main

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/shipper/estest"
)

// TestReplayEnds: replay needs an Elasticsearch it was told about, stops
// after --max-retry-time without acknowledgements with exit status 2 and a
// summary, and otherwise ships the files and says how far it got.
func TestReplayEnds(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeAccessLog(t, log, "kong", 30)

	code, _, errOut := gw(t, "replay", "--log-format", "kong", log)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no Elasticsearch to replay to: pass --url")

	// Nothing listens there: every attempt fails at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	code, _, errOut = gw(t, "replay", "--log-format", "kong", "--url", dead, "--max-retry-time", "300ms", log)
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "gave up after 300ms without an acknowledgement from Elasticsearch: 0 documents")
	require.Contains(t, errOut, "in 1 files) acknowledged")

	srv := estest.New()
	defer srv.Close()
	code, _, errOut = gw(t, "replay", "--log-format", "kong", "--url", srv.URL, log)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "100% ")
	require.Contains(t, errOut, "of 1 files, 30 documents")
	require.Equal(t, 30, srv.Count("logs-gateway*"))
}
