/* summary.c - labelled flows, attack outcomes and false incidents (summary.h). */
#include "eval/summary.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

bool eval_label_is_for(const struct eval_label *l, const char *capture_path)
{
	const char *base = strrchr(capture_path, '/');

	return !strcmp(l->file, base ? base + 1 : capture_path);
}

size_t eval_label_flows(struct eval_capture *c, const struct eval_labels *L)
{
	size_t attacks = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct eval_flow *f = &c->flow[i];
		struct eval_flow_key k = { f->family, f->proto, f->src, f->dst, f->sport, f->dport, f->first_us, f->last_us };

		f->label = -1;
		for (size_t r = 0; r < L->n; r++)
			if (eval_label_is_for(&L->row[r], c->path) && eval_label_matches(&L->row[r], &k)) {
				f->label = (int32_t)r;
				attacks++;
				break;
			}
	}
	return attacks;
}

void eval_attack_outcome(const struct eval_capture *c, size_t row, struct eval_attack *ret)
{
	struct eval_attack a = { .first_us = EVAL_NO_TIME };

	for (int l = 0; l < 5; l++)
		a.detect_us[l] = EVAL_NO_TIME;
	for (size_t i = 0; i < c->n; i++) {
		const struct eval_flow *f = &c->flow[i];

		if (f->label != (int32_t)row)
			continue;
		a.flows++;
		if (f->first_us < a.first_us)
			a.first_us = f->first_us;
		if (f->score > a.max_score)
			a.max_score = f->score;
		if (f->level >= 1)
			a.anomalous++;
		if (f->incident < 0)
			continue;
		a.suspicious++;
		const struct eval_incident *inc = &c->inc[f->incident];
		if (inc->level > a.level)
			a.level = inc->level;
		/* The alert for this attack: the incident at that level with
		 * this flow in it, whichever came later. */
		for (int l = 1; l <= inc->level; l++) {
			uint64_t t = inc->reached_us[l] > f->emit_us ? inc->reached_us[l] : f->emit_us;
			if (inc->reached_us[l] != EVAL_NO_TIME && t < a.detect_us[l])
				a.detect_us[l] = t;
		}
	}
	*ret = a;
}

static bool host_named(const struct eval_labels *L, const char *capture, const char *host)
{
	uint8_t addr[16] = { 0 };
	uint8_t family;

	if (inet_pton(AF_INET, host, addr) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		family = 6;
	else
		return false;
	for (size_t r = 0; r < L->n; r++)
		if (eval_label_is_for(&L->row[r], capture) &&
		    (eval_hosts_names(&L->row[r].attack, family, addr) || eval_hosts_names(&L->row[r].victim, family, addr)))
			return true;
	return false;
}

uint64_t eval_false_incidents(const struct eval_capture *c, const struct eval_labels *L, int level)
{
	uint8_t *has_attack = calloc(c->n_inc ? c->n_inc : 1, 1);
	uint64_t n = 0;

	if (!has_attack)
		return UINT64_MAX;
	for (size_t i = 0; i < c->n; i++)
		if (c->flow[i].label >= 0 && c->flow[i].incident >= 0)
			has_attack[c->flow[i].incident] = 1;
	for (size_t i = 0; i < c->n_inc; i++)
		if (c->inc[i].level >= level && !has_attack[i] && !host_named(L, c->path, c->inc[i].host))
			n++;
	free(has_attack);
	return n;
}

double eval_capture_seconds(const struct eval_capture *c)
{
	return c->packets ? (double)(c->last_pkt_us - c->first_pkt_us) / 1e6 : 0.0;
}
