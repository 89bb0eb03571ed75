package main

import (
	"fmt"
	"os"

	"github.com/contexten/autonomous/workflows/failureanalysis/loganalysis"
)

// readBaseline loads the passing log given to analyze --baseline-log, or
// returns nil when none was given.
func readBaseline(path string) (*loganalysis.Baseline, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open the baseline log: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("failed to read the baseline log: %s is a directory", path)
	}
	b, err := loganalysis.NewBaseline(f)
	if err != nil {
		return nil, fmt.Errorf("failed to read the baseline log: %w", err)
	}
	return b, nil
}
