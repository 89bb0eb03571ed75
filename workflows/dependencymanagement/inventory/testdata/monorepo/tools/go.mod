module example.com/tools

go 1.21

require (
	github.com/spf13/cobra v1.7.0
	github.com/spf13/pflag v1.0.5 // indirect
)
