/*
 * test-swarm.c - the pure parts of the Swarm backend: the service spec a
 * workload spec becomes, and the verdict a service's tasks give (state,
 * health, the problem naming a node).  No Docker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/swarm/swarm.h"
#include "names.h"
#include "tap.h"

static bool has(const char *json, const char *part)
{
	bool found = json && strstr(json, part);

	if (!found)
		printf("# '%s' not in %s\n", part, json ? json : "(null)");
	return found;
}

static void base_spec(struct workload_spec *s, struct kv *labels)
{
	static const struct workload_net net = { "cara-shop", NULL };

	memset(s, 0, sizeof(*s));
	labels[0].key = LABEL_PROJECT; labels[0].value = "shop";
	labels[1].key = LABEL_SERVICE; labels[1].value = "web";
	labels[2].key = LABEL_SPEC_HASH; labels[2].value = "abc";
	s->name = "shop-web";
	s->image = "busybox:1";
	s->labels = labels;
	s->nlabels = 3;
	s->nets = &net;
	s->nnets = 1;
	s->alias = "web";
	s->stop_timeout_s = -1;
	s->replicas = -1;
	s->restart = "unless-stopped";
}

static void test_service_json(void)
{
	struct workload_spec s;
	struct kv labels[3];
	struct strvec cmd = STRVEC_INIT, ep = STRVEC_INIT, cons = STRVEC_INIT;
	struct strvec prefs = STRVEC_INIT;
	struct port port = { NULL, 8080, 80, NULL, { 0, 0 } };
	char *j;

	base_spec(&s, labels);
	j = swarm_service_json(&s, NULL);
	ok(has(j, "\"Name\":\"shop-web\"") && has(j, "\"Image\":\"busybox:1\""),
	   "name and image");
	ok(has(j, "\"Replicated\":{\"Replicas\":1}"), "replicas unset: one");
	ok(has(j, "\"cara.replicas\":\"1\"") && has(j, "\"cara.project\":\"shop\"") &&
	   has(j, "\"cara.spec-hash\":\"abc\""), "cara's labels, with the mode asked for");
	ok(has(j, "\"Networks\":[{\"Target\":\"cara-shop\",\"Aliases\":[\"web\"]}]"),
	   "the project network, aliased by the service name");
	ok(has(j, "\"Condition\":\"any\""), "unless-stopped: restart any");
	ok(has(j, "\"Placement\":{}"),
	   "no placement: an empty one (a nil one crashes an update of Docker 20.10)");
	ok(has(j, "\"UpdateConfig\":{\"Parallelism\":1") &&
	   has(j, "\"FailureAction\":\"rollback\"") && has(j, "\"Order\":\"start-first\""),
	   "updates one task at a time, start-first, rolled back on failure");
	ok(has(j, "\"EndpointSpec\":{\"Mode\":\"vip\""), "endpoint mode vip by default");
	ok(has(j, "\"Resources\":{\"Limits\":{}}"), "no limit, no reservation");
	free(j);
	s.memory_bytes = 512 << 20;
	s.nano_cpus = 1500000000;
	s.memory_reservation_bytes = 128 << 20;
	s.nano_cpus_reservation = 250000000;
	j = swarm_service_json(&s, NULL);
	ok(has(j, "\"Resources\":{\"Limits\":{\"MemoryBytes\":536870912,"
	       "\"NanoCPUs\":1500000000},\"Reservations\":{\"MemoryBytes\":"
	       "134217728,\"NanoCPUs\":250000000}}"),
	   "limits and reservations: memory and CPUs");
	free(j);
	s.nano_cpus_reservation = 0;
	j = swarm_service_json(&s, NULL);
	ok(has(j, "\"Reservations\":{\"MemoryBytes\":134217728}}"),
	   "a memory reservation alone");
	free(j);
	base_spec(&s, labels);
	{
		struct strvec hosts = STRVEC_INIT, groups = STRVEC_INIT;
		struct strvec search = STRVEC_INIT, opts = STRVEC_INIT;
		struct ulimit ul = { (char *)"nofile", 1024, 2048, { 0, 0 } };

		strvec_push(&hosts, "db.example:10.1.2.3");
		strvec_push(&hosts, "v6.example:::1");
		strvec_push(&groups, "4242");
		strvec_push(&search, "shop.internal");
		strvec_push(&opts, "ndots:2");
		s.extra_hosts = &hosts;
		s.group_add = &groups;
		s.dns_search = &search;
		s.dns_opt = &opts;
		s.ulimits = &ul;
		s.nulimits = 1;
		s.tty = s.stdin_open = true;
		s.pids_limit = 100;
		j = swarm_service_json(&s, NULL);
		ok(has(j, "\"Hosts\":[\"10.1.2.3 db.example\",\"::1 v6.example\"]"),
		   "extra hosts as /etc/hosts lines, an IPv6 address whole");
		ok(has(j, "\"TTY\":true") && has(j, "\"OpenStdin\":true") &&
		   has(j, "\"Groups\":[\"4242\"]"), "tty, stdin_open, group_add");
		ok(has(j, "\"DNSConfig\":{\"Search\":[\"shop.internal\"],"
		       "\"Options\":[\"ndots:2\"]}"), "dns_search and dns_opt");
		ok(has(j, "\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":2048}]"),
		   "ulimits");
		ok(has(j, "\"Limits\":{\"Pids\":100}"), "pids_limit: the tasks' Pids limit");
		free(j);
		strvec_release(&hosts);
		strvec_release(&groups);
		strvec_release(&search);
		strvec_release(&opts);
		base_spec(&s, labels);
	}
	{
		struct strvec al = STRVEC_INIT;
		struct workload_net two[2] = { { "cara-shop_front", NULL },
					       { "proxy-net", &al } };

		strvec_push(&al, "shop");
		s.nets = two;
		s.nnets = 2;
		j = swarm_service_json(&s, NULL);
		ok(has(j, "\"Networks\":[{\"Target\":\"cara-shop_front\",\"Aliases\":"
		       "[\"web\"]},{\"Target\":\"proxy-net\",\"Aliases\":[\"web\",\"shop\"]}]"),
		   "each network joined, with the name and its aliases there");
		free(j);
		strvec_release(&al);
		base_spec(&s, labels);
	}

	strvec_push(&cmd, "serve");
	strvec_push(&ep, "/bin/app");
	strvec_push(&cons, "node.role==worker");
	s.cmd = &cmd;
	s.entrypoint = &ep;
	s.replicas = 3;
	s.endpoint_mode = "dnsrr";
	s.constraints = &cons;
	s.ports = &port;
	s.nports = 1;
	j = swarm_service_json(&s, NULL);
	ok(has(j, "\"Command\":[\"/bin/app\"]") && has(j, "\"Args\":[\"serve\"]"),
	   "entrypoint is Command, command is Args");
	ok(has(j, "\"Replicas\":3") && has(j, "\"cara.replicas\":\"3\""), "three replicas");
	ok(has(j, "\"Placement\":{\"Constraints\":[\"node.role==worker\"]}"),
	   "placement constraints");
	free(j);
	strvec_push(&prefs, "node.labels.zone");
	strvec_push(&prefs, "node.labels.rack");
	s.preferences = &prefs;
	j = swarm_service_json(&s, NULL);
	ok(has(j, "\"Placement\":{\"Constraints\":[\"node.role==worker\"],"
	       "\"Preferences\":[{\"Spread\":{\"SpreadDescriptor\":\"node.labels.zone\"}},"
	       "{\"Spread\":{\"SpreadDescriptor\":\"node.labels.rack\"}}]}"),
	   "placement preferences: spreads, in order");
	ok(has(j, "\"Mode\":\"dnsrr\"") && has(j, "\"PublishMode\":\"host\"") &&
	   has(j, "\"PublishedPort\":8080") && has(j, "\"TargetPort\":80"),
	   "dnsrr: ports published in host mode");
	ok(has(j, "\"Order\":\"stop-first\""),
	   "a host port: stop-first (two tasks of a node cannot hold it)");
	free(j);

	s.global = true;
	j = swarm_service_json(&s, NULL);
	ok(has(j, "\"Mode\":{\"Global\":{}}") && has(j, "\"cara.replicas\":\"global\""),
	   "mode Global");
	free(j);
	s.global = false;
	s.job = true;
	s.replicas = -1;
	s.restart = "no";
	j = swarm_service_json(&s, NULL);
	ok(has(j, "\"ReplicatedJob\":{\"MaxConcurrent\":1,\"TotalCompletions\":1}") &&
	   has(j, "\"Condition\":\"none\"") && has(j, "\"cara.replicas\":\"job:1\"") &&
	   !strstr(j, "UpdateConfig"),
	   "a job: a replicated job run once, never restarted");
	free(j);
	strvec_release(&cmd);
	strvec_release(&ep);
	strvec_release(&cons);
	strvec_release(&prefs);
}

/* A Swarm service does not carry StartInterval (API 1.44): refused. */
static void test_start_interval(void)
{
	struct workload_spec s;
	struct kv labels[3];
	struct healthcheck h;
	char *j;

	base_spec(&s, labels);
	memset(&h, 0, sizeof(h));
	h.present = true;
	strvec_push(&h.test, "CMD");
	strvec_push(&h.test, "true");
	h.start_period_ms = 2000;
	s.health = &h;
	j = swarm_service_json(&s, NULL);
	ok(has(j, "\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"StartPeriod\":2000000000}"),
	   "a healthcheck without startInterval: sent");
	free(j);
	h.start_interval_ms = 1000;
	error_clear();
	j = swarm_service_json(&s, NULL);
	ok(!j && strstr(error_last(), "service 'shop-web': a Swarm service does not "
			"carry a healthcheck's StartInterval"),
	   "startInterval: refused, not dropped: %s", error_last());
	free(j);
	strvec_release(&h.test);
}

#define T(state, desired, node) { "t", node, state, desired, NULL, 0, 1, false, true }

static void test_verdict(void)
{
	struct swarm_service_view v = { "web", false, false, 3, false, NULL, NULL };
	struct swarm_task t[4] = {
		T("running", "running", "node1"), T("running", "running", "node2"),
		T("running", "running", "node3"), T("shutdown", "shutdown", "node1"),
	};
	struct swarm_verdict out;

	swarm_tasks_verdict(&out, &v, t, 4);
	ok(out.state == OBS_RUNNING && !out.problem[0] && out.settled,
	   "3 of 3 running: running, nothing wrong");
	is_str(out.tasks, "3/3 running on node1, node2, node3", "  the tasks and their nodes");

	t[2].node_down = true;
	swarm_tasks_verdict(&out, &v, t, 4);
	ok(out.state == OBS_RESTARTING && strstr(out.problem, "node node3 is down"),
	   "a node down: its task named with the node (%s)", out.problem);

	v.global = true;
	t[2].desired = "shutdown";
	swarm_tasks_verdict(&out, &v, t, 4);
	ok(out.state == OBS_RESTARTING && strstr(out.problem, "2/3 tasks running; node node3 is down"),
	   "Global: the task of a node down is lost, not placed elsewhere (%s)", out.problem);
	swarm_tasks_verdict(&out, &v, t, 0);
	ok(out.state == OBS_RESTARTING && !out.settled,
	   "Global: no task placed yet is on its way, not settled");
	v.global = false;
	t[2].desired = "running";

	t[2].node_down = false;
	t[2].state = "failed";
	t[2].err = "task: non-zero exit (1)";
	t[2].exit_code = 1;
	t[3].state = "pending";
	t[3].desired = "running";
	swarm_tasks_verdict(&out, &v, t, 4);
	ok(out.state == OBS_RESTARTING &&
	   strstr(out.problem, "2/3 tasks running; task on node3 failed: task: non-zero exit (1)"),
	   "a failed task: the service, the node and Swarm's words (%s)", out.problem);
	ok(!out.settled, "  not settled while its replacement is on its way");
	is_str(out.tasks, "2/3 running on node1, node2; 1 failed, 1 on its way",
	       "  the tasks that do not run, by state");

	t[2].state = "running";
	t[2].err = NULL;
	swarm_tasks_verdict(&out, &v, t, 3);
	ok(out.state == OBS_RUNNING && !out.problem[0], "back to 3/3: running");
	is_str(out.tasks, "3/3 running on node1, node2, node3",
	       "  a failed task of the past is not shown once all run");

	v.update_state = "rollback_completed";
	v.update_message = "rollback completed";
	swarm_tasks_verdict(&out, &v, t, 3);
	ok(out.state == OBS_RUNNING && !out.problem[0],
	   "an update rolled back in full: the old spec runs, nothing wrong now");
	v.update_state = "rollback_paused";
	swarm_tasks_verdict(&out, &v, t, 3);
	ok(strstr(out.problem, "update rolled back in part"),
	   "a rollback stuck half-way is a problem though every task runs");

	v.update_state = "updating";
	swarm_tasks_verdict(&out, &v, t, 3);
	ok(!out.settled, "an update under way is not settled");

	v.update_state = NULL;
	v.has_health = true;
	swarm_tasks_verdict(&out, &v, t, 3);
	ok(out.health == HEALTH_HEALTHY, "with a healthcheck, running tasks are healthy");

	v.want = 5;
	t[0].state = "starting";
	swarm_tasks_verdict(&out, &v, t, 3);
	ok(out.state == OBS_RESTARTING && out.health == HEALTH_STARTING &&
	   strstr(out.problem, "2/5 tasks running, 1 on their way"),
	   "scaling: on its way, said (%s)", out.problem);
}

static void test_job_verdict(void)
{
	struct swarm_service_view v = { "migrate", false, true, 1, false, NULL, NULL };
	struct swarm_task t[2] = {
		T("complete", "complete", "node2"), T("failed", "shutdown", "node1"),
	};
	struct swarm_verdict out;

	t[1].current = false;    /* an earlier iteration's */
	swarm_tasks_verdict(&out, &v, t, 2);
	ok(out.state == OBS_EXITED && out.exit_code == 0 && out.settled,
	   "a job whose task completed: exited 0 (an earlier run's failure aside)");
	t[0].state = "running";
	t[0].desired = "complete";
	swarm_tasks_verdict(&out, &v, t, 2);
	ok(out.state == OBS_RUNNING, "a job under way: running");
	t[0].state = "failed";
	t[0].exit_code = 3;
	t[0].err = "task: non-zero exit (3)";
	swarm_tasks_verdict(&out, &v, t, 2);
	ok(out.state == OBS_EXITED && out.exit_code == 3 &&
	   strstr(out.problem, "job 'migrate': task on node2 failed"),
	   "a failed job: its exit code and node (%s)", out.problem);
}

/*
 * A File volume on a Swarm: one config a file, at its path below the
 * mount, mode from the volume (0444 / 0555 by default), named for target
 * and bytes; a deeper mount of the same target wins; the service refers
 * to each by id and name, and binds none of them.
 */
static void test_configs(void)
{
	struct workload_spec s;
	struct kv labels[3];
	struct file_entry conf[] = {
		{ "a.conf", "one", 3, false },
		{ "bin/run", "#!/bin/sh", 9, true },
	};
	struct file_entry over = { "", "two", 3, false };
	struct volume dir = { 0 }, file = { 0 };
	struct workload_mount mounts[2];
	struct swarm_configs c;
	char *j, *n1, *n2, *n3;

	base_spec(&s, labels);
	dir.is_dir = true;
	dir.files = conf;
	dir.nfiles = 2;
	file.files = &over;
	file.nfiles = 1;
	file.file_mode = 0440;
	memset(mounts, 0, sizeof(mounts));
	mounts[0] = (struct workload_mount){ .type = "bind", .source = "/x",
					     .target = "/etc/app/", .files = &dir };
	mounts[1] = (struct workload_mount){ .type = "bind", .source = "/y",
					     .target = "/etc/app/a.conf", .files = &file };
	s.mounts = mounts;
	s.nmounts = 1;
	swarm_configs_of(&c, &s);
	ok(c.n == 2 && !strcmp(c.v[0].target, "/etc/app/a.conf") && c.v[0].mode == 0444 &&
	   !strcmp(c.v[1].target, "/etc/app/bin/run") && c.v[1].mode == 0555,
	   "a directory: one config a file, below the target, 0444 / 0555");
	ok(c.v[0].len == 3 && !strncmp(c.v[0].name, "shop-web-", 9) &&
	   strlen(c.v[0].name) == 9 + 12 && strcmp(c.v[0].name, c.v[1].name),
	   "  named SERVICE-HASH12, one name a file (%s)", c.v[0].name);
	n1 = xstrdup(c.v[0].name);
	swarm_configs_release(&c);

	s.nmounts = 2;
	swarm_configs_of(&c, &s);
	ok(c.n == 2 && !strcmp(c.v[0].target, "/etc/app/a.conf") && c.v[0].mode == 0440 &&
	   !strncmp(c.v[0].data, "two", 3) && strcmp(c.v[0].name, n1),
	   "a file mounted over one of the directory: its config (and mode) wins");
	n2 = xstrdup(c.v[0].name);
	n3 = xstrdup(c.v[1].name);
	c.v[0].id = xstrdup("cid0");
	c.v[1].id = xstrdup("cid1");
	j = swarm_service_json_configs(&s, NULL, &c);
	ok(has(j, "\"Configs\":[{\"File\":{\"Name\":\"/etc/app/a.conf\",\"UID\":\"0\","
		  "\"GID\":\"0\",\"Mode\":288},\"ConfigID\":\"cid0\",\"ConfigName\":\"") &&
	   has(j, n2) && has(j, "\"ConfigID\":\"cid1\"") && has(j, "\"Mode\":365"),
	   "the service refers to each config by id and name, uid and gid 0");
	ok(has(j, "\"Mounts\":[]"), "  and binds none of the host's files");
	free(j);
	swarm_configs_release(&c);

	over.data = "three";
	over.len = 5;
	swarm_configs_of(&c, &s);
	ok(c.n == 2 && strcmp(c.v[0].name, n2) && !strcmp(c.v[1].name, n3),
	   "a new content is a new name, the others keep theirs");
	swarm_configs_release(&c);
	free(n1);
	free(n2);
	free(n3);

	n1 = swarm_versioned_name("shop-a-service-whose-name-is-much-longer-than-fifty-one-"
				  "characters-1", "/etc/a", "x", 1);
	n2 = swarm_versioned_name("shop-a-service-whose-name-is-much-longer-than-fifty-one-"
				  "characters-2", "/etc/a", "x", 1);
	ok(strlen(n1) == 64 && strlen(n2) == 64 && strcmp(n1, n2),
	   "names cut to 64 characters, two services of one prefix apart (%s, %s)", n1, n2);
	free(n1);
	free(n2);
}

int main(void)
{
	test_service_json();
	test_start_interval();
	test_configs();
	test_verdict();
	test_job_verdict();
	return tap_done();
}
