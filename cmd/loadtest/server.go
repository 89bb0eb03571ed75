package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildBinary builds ./cmd/autonomous of the module the working directory is in, into dir.
func buildBinary(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", fmt.Errorf("failed to find the module (run from the repository, or pass --bin): %v", err)
	}
	bin := filepath.Join(dir, "autonomous")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/autonomous")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("failed to build the autonomous binary: %w\n%s", err, out)
	}
	return bin, nil
}

// server is the autonomous serve process under test.
type server struct {
	cmd    *exec.Cmd
	url    string
	secret []byte
	admin  string
	done   chan error
	log    *os.File

	mu   sync.Mutex
	heap heapStats
}

// heapStats comes from the server's GODEBUG=gctrace=1 lines: the heap left live after the last
// garbage collection, the largest such figure, and the last heap goal.
type heapStats struct {
	LiveMB, PeakLiveMB, GoalMB int
	GCs                        int
}

// The runtime prints a gctrace line in pieces, so the server's own log lines may split it: only
// its heap part is matched.
var gcLine = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB, (\d+) MB goal`)

// startServer starts bin serve in dataDir with credentials, the stand-in as GitHub, and the
// database (SQLite in dataDir when databaseURL is empty). extraEnv entries (KEY=VALUE) come last.
func startServer(ctx context.Context, bin, dataDir, databaseURL, apiURL, logLevel string, extraEnv []string) (*server, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("failed to generate the app key: %w", err)
	}
	keyPath := filepath.Join(dataDir, "app.pem")
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("failed to write the app key: %w", err)
	}
	var secret [16]byte
	_, _ = rand.Read(secret[:])
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if databaseURL == "" {
		databaseURL = "sqlite://" + filepath.Join(dataDir, "autonomous.db")
	}
	godebug := "gctrace=1"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + ",gctrace=1"
	}
	// A clean environment: nothing of the caller's GitHub App or database leaks in, and the
	// working directory has no .env. TMPDIR is the data directory, so the HTTP cache's temporary
	// directory of a killed server (--kill) goes with it.
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dataDir, "TMPDIR=" + dataDir, "GODEBUG=" + godebug,
		"GITHUB_APP_ID=1", "GITHUB_PRIVATE_KEY_PATH=" + keyPath, "GITHUB_WEBHOOK_SECRET=" + hex.EncodeToString(secret[:]),
		"GITHUB_API_URL=" + apiURL, "DATABASE_URL=" + databaseURL, "PORT=" + strconv.Itoa(port),
		"BIND_ADDR=127.0.0.1", "LOG_LEVEL=" + logLevel, "ADMIN_TOKEN=" + hex.EncodeToString(secret[8:]),
	}
	for _, name := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	env = append(env, extraEnv...)
	logFile, err := os.Create(filepath.Join(dataDir, "server.log"))
	if err != nil {
		return nil, fmt.Errorf("failed to create the server log: %w", err)
	}
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), secret: []byte(hex.EncodeToString(secret[:])), done: make(chan error, 1), log: logFile,
		admin: hex.EncodeToString(secret[8:])}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Dir, s.cmd.Env, s.cmd.Stdout = dataDir, env, logFile
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("failed to pipe the server's stderr: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("failed to start %s serve: %w", bin, err)
	}
	scanned := make(chan struct{})
	go func() { s.scan(stderr); close(scanned) }()
	go func() { <-scanned; s.done <- s.cmd.Wait() }()
	if err := s.waitReady(ctx); err != nil {
		s.kill()
		return nil, fmt.Errorf("%w (server log: %s)", err, logFile.Name())
	}
	return s, nil
}

// scan copies the server's stderr to the log file and keeps the gctrace figures.
func (s *server) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		// Only gctrace lines start with "gc "; the regexp on every log line cost the load
		// generator 15% of its CPU.
		if !bytes.HasPrefix(line, []byte("gc ")) {
			_, _ = s.log.Write(append(line, '\n'))
			continue
		}
		if m := gcLine.FindSubmatch(line); m != nil {
			live, _ := strconv.Atoi(string(m[3]))
			goal, _ := strconv.Atoi(string(m[4]))
			s.mu.Lock()
			s.heap.LiveMB, s.heap.GoalMB, s.heap.GCs = live, goal, s.heap.GCs+1
			s.heap.PeakLiveMB = max(s.heap.PeakLiveMB, live)
			s.mu.Unlock()
			continue
		}
		_, _ = s.log.Write(append(line, '\n'))
	}
	_, _ = io.Copy(io.Discard, r)
}

func (s *server) heapStats() heapStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heap
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("the server exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("the server was not ready within 2 minutes")
}

// stop ends the server: SIGTERM and up to a minute for the graceful shutdown, or SIGKILL at once
// when kill is set (a crash). It waits until the process is gone.
func (s *server) stop(kill bool) error {
	defer s.log.Close()
	if kill {
		_ = s.cmd.Process.Kill()
		<-s.done
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("the server stopped with: %w", err)
		}
		return nil
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("the server did not stop within a minute of SIGTERM; killed")
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
	s.log.Close()
}

// memory is one /proc/<pid>/status reading, in bytes.
type memory struct{ RSS, HWM int64 }

func (s *server) memory() (memory, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return memory{}, fmt.Errorf("failed to read the server's memory: %w", err)
	}
	var m memory
	for _, line := range strings.Split(string(raw), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if name == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.HWM = kb << 10
		}
	}
	return m, nil
}

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on Linux).
const clockTicks = 100

// cpu is the CPU time (user and system) the server has used, from /proc/<pid>/stat (10 ms
// resolution).
func (s *server) cpu() (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("failed to read the server's CPU time: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces: count from after it.
	_, rest, ok := strings.Cut(string(raw), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, fmt.Errorf("failed to read the server's CPU time: unexpected /proc stat %q", raw)
	}
	// Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name.
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("failed to read the server's CPU time: unexpected /proc stat %q", raw)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("failed to find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// backlog is the number of failure_analysis jobs not finished yet (available, running,
// retryable, scheduled), from the server's operator API.
func (s *server) backlog(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/api/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("failed to read the server's metrics: %w", err)
	}
	defer resp.Body.Close()
	var m struct {
		Counts map[string]map[string]int `json:"counts"`
		Inbox  struct {
			Waiting int `json:"waiting"`
		} `json:"inbox"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("failed to read the server's metrics (%s): %v", resp.Status, err)
	}
	c := m.Counts["failure_analysis"]
	return m.Inbox.Waiting + c["available"] + c["running"] + c["retryable"] + c["scheduled"] + c["pending"], nil
}
