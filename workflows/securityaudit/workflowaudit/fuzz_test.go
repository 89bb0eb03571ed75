package workflowaudit

import (
	"errors"
	"strings"
	"testing"
)

// FuzzAudit feeds arbitrary bytes (seeded with the corpus) to the auditor and the fixes:
// they may refuse input, but must never panic, and a fix must never corrupt a workflow
// the auditor accepted into one it rejects.
func FuzzAudit(f *testing.F) {
	files, err := loadCorpus()
	if err != nil {
		f.Fatal(err)
	}
	for _, src := range files {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fs, err := Audit("w.yml", src, Options{PinFirstParty: true})
		if err != nil {
			if !errors.Is(err, ErrInvalidWorkflow) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		_ = AddTopLevelPermissions(src)
		for _, x := range fs {
			switch x.RuleID {
			case RuleUnpinnedAction:
				_ = PinAction(src, x.Line, fakeSHA, "")
			case RuleTemplateInjection:
				if _, err := MoveExpressionToEnv(src, x); err != nil && !errors.Is(err, ErrNotMechanical) && !errors.Is(err, ErrInvalidWorkflow) {
					t.Fatalf("unexpected error kind: %v", err)
				}
			}
		}
	})
}

func BenchmarkAuditCorpus(b *testing.B) {
	files, err := loadCorpus()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for name, src := range files {
			if _, err := Audit(name, src, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAuditLargeScript audits a near-limit file: one script of 20,000 injected lines.
func BenchmarkAuditLargeScript(b *testing.B) {
	src := []byte("on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n" +
		strings.Repeat("          echo \"${{ github.event.issue.title }}\" x\n", 20000))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fs, err := Audit("w.yml", src, Options{})
		if err != nil || len(fs) != 20000 {
			b.Fatal(len(fs), err)
		}
	}
}
