// cronref: the reference for aksnap's schedule math. Kubernetes CronJob parses
// "TZ=<spec.timeZone> <spec.schedule>" with github.com/robfig/cron/v3 ParseStandard
// (pkg/controller/cronjob/utils.go formatSchedule) and steps with Schedule.Next; this
// does the same for JSON lines on stdin, one answer line per input line:
//
//	{"spec":"0 2 * * *","tz":"Europe/London","after":"2026-03-29T00:00:00Z","n":3}
//	-> {"next":["2026-03-29T01:00:00Z", ...]}   or {"error":"..."}
//
// With "now" (and optionally "deadline" seconds) it instead answers like CronJob's
// mostRecentScheduleTime(earliest=after, now, startingDeadlineSeconds):
//
//	-> {"due":"...","missed":N,"many":false}
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
	_ "time/tzdata" // zone rules where the machine has no zoneinfo (Go prefers the system's, as kube does)

	"github.com/robfig/cron/v3"
)

type query struct {
	Spec     string `json:"spec"`
	TZ       string `json:"tz"`
	After    string `json:"after"`
	N        int    `json:"n"`
	Now      string `json:"now,omitempty"`
	Deadline *int64 `json:"deadline,omitempty"`
}

type answer struct {
	Next   []string `json:"next,omitempty"`
	Due    *string  `json:"due,omitempty"`
	Missed *int64   `json:"missed,omitempty"`
	Many   *bool    `json:"many,omitempty"`
	Error  string   `json:"error,omitempty"`
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func solve(q query) answer {
	if _, err := time.LoadLocation(q.TZ); err != nil {
		return answer{Error: err.Error()}
	}
	sched, err := cron.ParseStandard(fmt.Sprintf("TZ=%s %s", q.TZ, q.Spec))
	if err != nil {
		return answer{Error: err.Error()}
	}
	after, err := time.Parse(time.RFC3339, q.After)
	if err != nil {
		return answer{Error: err.Error()}
	}
	if q.Now != "" {
		now, err := time.Parse(time.RFC3339, q.Now)
		if err != nil {
			return answer{Error: err.Error()}
		}
		return mostRecent(sched, after, now, q.Deadline)
	}
	out := answer{Next: []string{}}
	t := after
	for i := 0; i < q.N; i++ {
		t = sched.Next(t)
		if t.IsZero() {
			break
		}
		out.Next = append(out.Next, rfc(t))
	}
	return out
}

// mostRecent is kube's mostRecentScheduleTime (v1.37, includeStartingDeadlineSeconds=true),
// copied so the differential test can compare catch-up decisions, not just Next.
func mostRecent(schedule cron.Schedule, earliestTime, now time.Time, deadline *int64) answer {
	var missed int64
	many := false
	if deadline != nil {
		schedulingDeadline := now.Add(-time.Second * time.Duration(*deadline))
		if schedulingDeadline.After(earliestTime) {
			earliestTime = schedulingDeadline
		}
	}
	t1 := schedule.Next(earliestTime)
	t2 := schedule.Next(t1)
	if now.Before(t1) {
		return answer{Missed: &missed, Many: &many}
	}
	if now.Before(t2) {
		s := rfc(t1)
		return answer{Due: &s, Missed: &missed, Many: &many}
	}
	between := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if between < 1 {
		return answer{Error: "time difference between two schedules is less than 1 second"}
	}
	elapsed := int64(now.Sub(t1).Seconds())
	missed = (elapsed / between) + 1
	var mostRecentTime time.Time
	potentialEarliest := t1.Add(time.Duration((missed-1-1)*between) * time.Second)
	for t := schedule.Next(potentialEarliest); !t.After(now); t = schedule.Next(t) {
		mostRecentTime = t
	}
	many = missed > 100
	if mostRecentTime.IsZero() {
		return answer{Missed: &missed, Many: &many}
	}
	s := rfc(mostRecentTime)
	return answer{Due: &s, Missed: &missed, Many: &many}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var q query
		var a answer
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			a = answer{Error: err.Error()}
		} else {
			a = solve(q)
		}
		if err := enc.Encode(a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
