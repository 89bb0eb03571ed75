package handlers

import "github.com/contexten/autonomous/workflows/commands"

// Command is one slash command found in a comment. The parser lives in workflows/commands so the
// worker, which must not import handlers (handlers imports it for the job args), reuses it.
type Command = commands.Command

// ParseCommands returns the commands of a comment body in order, at most commands.MaxCommands:
// lines starting with prefix (default "/ci") or "@<appSlug>", outside code blocks and quotes.
func ParseCommands(body, prefix, appSlug string) []Command {
	return commands.Parse(body, prefix, appSlug)
}

// mayHoldCommand is the handler's filter, made without the repository's configuration: some line
// outside code and quotes starts with "/" or "@<appSlug>". The worker applies the configured
// prefix precisely.
func mayHoldCommand(body, appSlug string) bool {
	return commands.MayHoldCommand(body, appSlug)
}
