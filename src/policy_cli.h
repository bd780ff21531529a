/*
 * policy_cli — `ddbgate policy eval|lint`: the policy engine and the
 * classifier as a command, so a policy can be tried before rollout.
 */
#ifndef DDBGATE_POLICY_CLI_H
#define DDBGATE_POLICY_CLI_H

/* argv[0] is "policy". Exit status: eval 0 allow, 1 deny, 2 error;
 * lint 0 clean, 1 findings, 2 error. */
int policy_cli_main(int argc, char **argv);

#endif
