package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/config"
)

// envFile is where the setup page writes credentials and where they are read back from.
const envFile = ".env"

// loadConfig reads the configuration: defaults, --config YAML, the .env file, the environment.
func loadConfig(path string) (config.Config, error) {
	dotenv, err := config.LoadEnvFile(envFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return config.Config{}, fmt.Errorf("failed to read %s: %w", envFile, err)
	}
	lookup := func(key string) (string, bool) {
		if v, ok := os.LookupEnv(key); ok {
			return v, true
		}
		v, ok := dotenv[key]
		return v, ok
	}
	return config.Load(path, lookup)
}

// newLogger builds the process logger: JSON on stderr, level from LOG_LEVEL (DEBUG forces debug).
func newLogger(cfg config.Config, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(strings.ToLower(cfg.LogLevel))
	if err != nil || cfg.LogLevel == "" {
		level = zerolog.InfoLevel
	}
	if cfg.Debug {
		level = zerolog.DebugLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// commonFlags adds --config to a subcommand's flags.
func commonFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "optional YAML configuration file")
	return fs, path
}

// printProblems prints Validate's lines and reports whether one is fatal.
func printProblems(w io.Writer, problems []string) bool {
	for _, p := range problems {
		fmt.Fprintln(w, p)
	}
	return config.HasFatal(problems)
}

// parseInterspersed parses flags wherever they stand among the positional arguments
// (`execute --repo o/r failure_analysis --param k=v` and `execute failure_analysis --repo o/r`
// alike) and returns the positional ones; after "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// noArguments parses a command that takes only flags and says so when given more.
func noArguments(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError{2}
	}
	if len(positional) > 0 {
		fmt.Fprintf(stderr, "%s takes no arguments, only flags; got %q\n", fs.Name(), strings.Join(positional, " "))
		return exitError{2}
	}
	return nil
}
