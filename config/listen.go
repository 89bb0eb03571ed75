package config

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
)

// hostPattern matches a DNS host name such as localhost or bot.internal.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

// ListenAddr is the address serve listens on: BIND_ADDR and PORT. Without BIND_ADDR it is every
// interface (":PORT") once the GitHub App has credentials or PUBLIC_URL is set, and loopback
// ("127.0.0.1:PORT") while the server is unconfigured: whoever completes the setup page first
// decides which app the server trusts, so it is reachable only from this machine unless the
// operator says otherwise.
func (c Config) ListenAddr() string {
	host := c.BindAddr
	if host == "" && !c.HasAppCredentials() && c.PublicURL == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(c.Port))
}

// validateBindAddr checks BIND_ADDR and warns when the setup page is reachable from other hosts.
func (c Config) validateBindAddr() []string {
	if c.BindAddr != "" && net.ParseIP(c.BindAddr) == nil && !hostPattern.MatchString(c.BindAddr) {
		return []string{fmt.Sprintf("%s: BIND_ADDR must be a host name or IP address without a port (the port is PORT), got %q", Fatal, c.BindAddr)}
	}
	if c.HasAppCredentials() {
		return nil
	}
	host, _, _ := net.SplitHostPort(c.ListenAddr())
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
		return nil
	}
	return []string{Warning + ": the setup page listens on " + c.ListenAddr() + " (BIND_ADDR or PUBLIC_URL is set): whoever opens it first registers the app, so keep it unreachable to others until then"}
}
