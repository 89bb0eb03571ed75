package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// runIDPlaceholder is the workflow run id in the payload template; every delivery patches it
// (and the URLs that contain it) in place with its own 12-digit run id.
const (
	runIDPlaceholder = "100000000000"
	firstRunID       = 100000000000
	maxRunID         = 999999999999
)

// template is a workflow_run completed/failure webhook payload in GitHub's documented shape
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_run), padded to size
// bytes through the head commit's message, with the offsets of the run id.
type template struct {
	body    []byte
	offsets []int
}

// newTemplate builds the payload; size is its approximate length in bytes (22.5 KB like the
// issue's measurements, which is typical of real workflow_run deliveries).
func newTemplate(size int) (template, error) {
	payload := workflowRunPayload("")
	raw, err := json.Marshal(payload)
	if err != nil {
		return template{}, fmt.Errorf("failed to encode the payload: %w", err)
	}
	if pad := size - len(raw); pad > 0 {
		line := "Fix the flaky retry test and document why the cache must be bounded.\n"
		message := strings.Repeat(line, pad/len(line)+1)[:pad]
		payload = workflowRunPayload(message)
		if raw, err = json.Marshal(payload); err != nil {
			return template{}, fmt.Errorf("failed to encode the payload: %w", err)
		}
	}
	return withOffsets(raw), nil
}

// newRunTemplate is the stand-in's answer to GET /repos/{owner}/{repo}/actions/runs/{id}: the
// webhook's workflow_run object (the REST API's shape, about 9 KB like GitHub's), concluded
// "cancelled" so the worker finishes without further requests.
func newRunTemplate() (template, error) {
	run := workflowRunPayload("")["workflow_run"].(map[string]any)
	run["conclusion"], run["pull_requests"] = "cancelled", []any{}
	raw, err := json.Marshal(run)
	if err != nil {
		return template{}, fmt.Errorf("failed to encode the workflow run: %w", err)
	}
	return withOffsets(raw), nil
}

func withOffsets(raw []byte) template {
	t := template{body: raw}
	for i := 0; ; {
		j := bytes.Index(raw[i:], []byte(runIDPlaceholder))
		if j < 0 {
			return t
		}
		t.offsets = append(t.offsets, i+j)
		i += j + len(runIDPlaceholder)
	}
}

// render writes the payload for runID into dst (len(dst) == len(t.body)).
func (t template) render(dst []byte, runID int64) {
	copy(dst, t.body)
	t.patch(dst, runID)
}

// patch writes runID into dst, a payload that render wrote for another run id: only the id's
// bytes differ between two runs' payloads.
func (t template) patch(dst []byte, runID int64) {
	var buf [20]byte
	id := fmt.Appendf(buf[:0], "%012d", runID)
	for _, at := range t.offsets {
		copy(dst[at:], id)
	}
}

const (
	owner    = "octo-org"
	repoName = "load-app"
	api      = "https://api.github.com"
	web      = "https://github.com"
)

func workflowRunPayload(commitMessage string) map[string]any {
	run := runURLPrefix()
	user := account("octocat", 583231, "User")
	org := account(owner, 9919, "Organization")
	repo := repository(owner, repoName, 186853002, org, true)
	return map[string]any{
		"action": "completed",
		"workflow_run": map[string]any{
			"id": json.Number(runIDPlaceholder), "name": "CI", "node_id": "WFR_kwLOCyL0Ks8AAAAXSeuMAA",
			"head_branch": "feature/bounded-cache", "head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
			"path": ".github/workflows/ci.yml", "display_title": "Bound the HTTP cache", "run_number": 4242,
			"event": "pull_request", "status": "completed", "conclusion": "failure", "workflow_id": 161335,
			"check_suite_id": 42111111111, "check_suite_node_id": "CS_kwDOCyL0Ks8AAAAJzZ7d9w",
			"url": run, "html_url": web + "/" + owner + "/" + repoName + "/actions/runs/" + runIDPlaceholder,
			"pull_requests": []any{map[string]any{
				"url": api + "/repos/" + owner + "/" + repoName + "/pulls/1347", "id": 1934453400, "number": 1347,
				"head": map[string]any{"ref": "feature/bounded-cache", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
					"repo": map[string]any{"id": 186853002, "url": api + "/repos/" + owner + "/" + repoName, "name": repoName}},
				"base": map[string]any{"ref": "main", "sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc",
					"repo": map[string]any{"id": 186853002, "url": api + "/repos/" + owner + "/" + repoName, "name": repoName}},
			}},
			"created_at": "2026-11-30T17:52:41Z", "updated_at": "2026-11-30T18:01:03Z",
			"actor": user, "triggering_actor": user, "run_attempt": 1, "referenced_workflows": []any{},
			"run_started_at": "2026-11-30T17:52:41Z",
			"jobs_url":       run + "/jobs", "logs_url": run + "/logs", "check_suite_url": api + "/repos/" + owner + "/" + repoName + "/check-suites/42111111111",
			"artifacts_url": run + "/artifacts", "cancel_url": run + "/cancel", "rerun_url": run + "/rerun",
			"previous_attempt_url": nil, "workflow_url": api + "/repos/" + owner + "/" + repoName + "/actions/workflows/161335",
			"head_commit": map[string]any{
				"id": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "tree_id": "d23f6eedb1e1b9610bbc754ddb5197bfe7271223",
				"message": "Bound the HTTP cache\n\n" + commitMessage, "timestamp": "2026-11-30T17:52:30Z",
				"author":    map[string]any{"name": "Mona Octocat", "email": "mona@github.com"},
				"committer": map[string]any{"name": "GitHub", "email": "noreply@github.com"},
			},
			"repository": repository(owner, repoName, 186853002, org, false), "head_repository": repository(owner, repoName, 186853002, org, false),
		},
		"workflow": map[string]any{
			"id": 161335, "node_id": "MDg6V29ya2Zsb3cxNjEzMzU=", "name": "CI", "path": ".github/workflows/ci.yml",
			"state": "active", "created_at": "2025-02-12T10:02:11Z", "updated_at": "2026-10-01T08:15:44Z",
			"url":       api + "/repos/" + owner + "/" + repoName + "/actions/workflows/161335",
			"html_url":  web + "/" + owner + "/" + repoName + "/blob/main/.github/workflows/ci.yml",
			"badge_url": web + "/" + owner + "/" + repoName + "/workflows/CI/badge.svg",
		},
		"repository":   repo,
		"organization": org,
		"sender":       user,
		"installation": map[string]any{"id": 4242, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg=="},
	}
}

func runURLPrefix() string {
	return api + "/repos/" + owner + "/" + repoName + "/actions/runs/" + runIDPlaceholder
}

func account(login string, id int, kind string) map[string]any {
	u := api + "/users/" + login
	return map[string]any{
		"login": login, "id": id, "node_id": "MDQ6VXNlcjU4MzIzMQ==", "avatar_url": fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		"gravatar_id": "", "url": u, "html_url": web + "/" + login, "followers_url": u + "/followers",
		"following_url": u + "/following{/other_user}", "gists_url": u + "/gists{/gist_id}",
		"starred_url": u + "/starred{/owner}{/repo}", "subscriptions_url": u + "/subscriptions",
		"organizations_url": u + "/orgs", "repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": kind, "user_view_type": "public", "site_admin": false,
	}
}

// repository is a repository object; full adds the fields the top-level repository carries.
func repository(owner, name string, id int, ownerAccount map[string]any, full bool) map[string]any {
	u := api + "/repos/" + owner + "/" + name
	r := map[string]any{
		"id": id, "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=", "name": name, "full_name": owner + "/" + name,
		"private": true, "owner": ownerAccount, "html_url": web + "/" + owner + "/" + name,
		"description": "Load-test fixture repository", "fork": false, "url": u,
		"forks_url": u + "/forks", "keys_url": u + "/keys{/key_id}", "collaborators_url": u + "/collaborators{/collaborator}",
		"teams_url": u + "/teams", "hooks_url": u + "/hooks", "issue_events_url": u + "/issues/events{/number}",
		"events_url": u + "/events", "assignees_url": u + "/assignees{/user}", "branches_url": u + "/branches{/branch}",
		"tags_url": u + "/tags", "blobs_url": u + "/git/blobs{/sha}", "git_tags_url": u + "/git/tags{/sha}",
		"git_refs_url": u + "/git/refs{/sha}", "trees_url": u + "/git/trees{/sha}", "statuses_url": u + "/statuses/{sha}",
		"languages_url": u + "/languages", "stargazers_url": u + "/stargazers", "contributors_url": u + "/contributors",
		"subscribers_url": u + "/subscribers", "subscription_url": u + "/subscription", "commits_url": u + "/commits{/sha}",
		"git_commits_url": u + "/git/commits{/sha}", "comments_url": u + "/comments{/number}",
		"issue_comment_url": u + "/issues/comments{/number}", "contents_url": u + "/contents/{+path}",
		"compare_url": u + "/compare/{base}...{head}", "merges_url": u + "/merges", "archive_url": u + "/{archive_format}{/ref}",
		"downloads_url": u + "/downloads", "issues_url": u + "/issues{/number}", "pulls_url": u + "/pulls{/number}",
		"milestones_url": u + "/milestones{/number}", "notifications_url": u + "/notifications{?since,all,participating}",
		"labels_url": u + "/labels{/name}", "releases_url": u + "/releases{/id}", "deployments_url": u + "/deployments",
	}
	if full {
		for k, v := range map[string]any{
			"created_at": "2019-05-15T15:19:25Z", "updated_at": "2026-11-30T17:50:02Z", "pushed_at": "2026-11-30T17:52:29Z",
			"git_url": "git://github.com/" + owner + "/" + name + ".git", "ssh_url": "git@github.com:" + owner + "/" + name + ".git",
			"clone_url": web + "/" + owner + "/" + name + ".git", "svn_url": web + "/" + owner + "/" + name,
			"homepage": nil, "size": 10482, "stargazers_count": 12, "watchers_count": 12, "language": "Go",
			"has_issues": true, "has_projects": false, "has_downloads": true, "has_wiki": false, "has_pages": false,
			"has_discussions": false, "forks_count": 3, "mirror_url": nil, "archived": false, "disabled": false,
			"open_issues_count": 17, "license": nil, "allow_forking": false, "is_template": false,
			"web_commit_signoff_required": false, "topics": []any{"ci", "github-app"}, "visibility": "private",
			"forks": 3, "open_issues": 17, "watchers": 12, "default_branch": "main", "custom_properties": map[string]any{},
		} {
			r[k] = v
		}
	}
	return r
}
