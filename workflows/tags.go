package workflows

import "fmt"

// PRTag is the River tag of the executions about one pull request (repository id and number):
// `/ci status` lists them and `/ci cancel` stops them (commands.PRTag is the same).
func PRTag(repoID int64, number int) string { return fmt.Sprintf("pr-%d-%d", repoID, number) }
