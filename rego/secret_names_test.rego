package airlock_test

import rego.v1

import data.airlock

# A placeholder of a secret stored under another name than the policy binds (the docs once said
# "github"): the refusal names the secret this host takes.
test_wrong_secret_name_names_the_bound_one if {
	d := airlock.decision with input as with_placeholder(gh_read, "github", ["header"])
	d.rule == "placeholder.unauthorized"
	contains(d.reason, "api.github.com takes secret github_token (store the value under that name: airlock secret set github_token)")
}

test_unknown_host_refusal_names_no_secret if {
	d := airlock.decision with input as with_placeholder(req("POST", "evil.example", "/collect"), "github_token", ["body"])
	d.rule == "placeholder.unauthorized"
	not contains(d.reason, "takes secret")
}

test_configured_secret_name_is_the_one_named if {
	d := airlock.decision with input as with_placeholder(gh_read, "github", ["header"])
		with data.config.services.github.secret as "gh_pat"
	contains(d.reason, "takes secret gh_pat")
}
