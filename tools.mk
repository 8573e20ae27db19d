# tools.mk - the deployment tool chain, included by the root Makefile (usable alone: make -f tools.mk).
#
# aws-sam-cli pins boto3, click, requests, pydantic (through aws-sam-translator) and cfn-lint exactly,
# so it gets its own virtualenv, .venv-tools, apart from the project's .venv: installing it there would
# hold the runtime dependencies back or conflict. Created with Python 3.12, the Lambda runtime's version.
#
# Targets:  tools          create/refresh .venv-tools (idempotent; stamp file, redone when tools.mk changes)
#           build          sam build (no Docker: functions and layer build through their Makefiles)
#           lint-template  cfn-lint template.yaml + sam validate --lint (offline, no AWS credentials)
#           security       checkov over template.yaml, offline, in its own virtualenv .venv-tools/checkov
# Variables: PYTHON312, SAM_CLI_VERSION, CFN_LINT_VERSION, CHECKOV_VERSION, TOOLS_REGION, TOOLS_VENV, SAM

# The Makefile usually defines PYTHON312 already. pyenv's `python3.12` shim exits non-zero when 3.12 is
# installed but not the active version, so each candidate is run, not just looked up.
ifndef PYTHON312
PYTHON312 := $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
endif

TOOLS_VENV ?= .venv-tools
TOOLS_BIN := $(TOOLS_VENV)/bin
TOOLS_STAMP := $(TOOLS_VENV)/.tools-stamp
SAM_CLI_VERSION ?= 1.170.0
CFN_LINT_VERSION ?= 1.58.0
CHECKOV_VERSION ?= 3.3.30
SAM ?= $(TOOLS_BIN)/sam
CFN_LINT ?= $(TOOLS_BIN)/cfn-lint
# Linting and validation are offline, but botocore and sam still want a region to be set.
TOOLS_REGION ?= us-east-1
TOOLS_ENV := AWS_DEFAULT_REGION=$(TOOLS_REGION) AWS_REGION=$(TOOLS_REGION) SAM_CLI_TELEMETRY=0
# Inside .venv-tools so that ignores and `make clean` cover it too.
CHECKOV_VENV ?= $(TOOLS_VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.tools-stamp

.PHONY: tools build lint-template security

$(TOOLS_STAMP): tools.mk
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found; install it or set PYTHON312=/path/to/python3.12" >&2; exit 1; }
	test -x $(TOOLS_BIN)/python || $(PYTHON312) -m venv $(TOOLS_VENV)
	$(TOOLS_BIN)/python -m pip install --quiet --upgrade pip
	$(TOOLS_BIN)/python -m pip install --quiet "aws-sam-cli==$(SAM_CLI_VERSION)" "cfn-lint==$(CFN_LINT_VERSION)"
	touch $@

tools: $(TOOLS_STAMP)

# The tools venv's bin comes first on PATH so the layer Makefile's `python3 -m pip` is its Python 3.12.
build: tools
	PATH="$(abspath $(TOOLS_BIN)):$$PATH" $(TOOLS_ENV) $(SAM) build --template-file template.yaml

lint-template: tools
	$(TOOLS_ENV) $(CFN_LINT) template.yaml
	$(TOOLS_ENV) $(SAM) validate --lint --template-file template.yaml

$(CHECKOV_STAMP): tools.mk
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found; set PYTHON312=/path/to/python3.12" >&2; exit 1; }
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON312) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "checkov==$(CHECKOV_VERSION)"
	touch $@

# Checks skipped on purpose (every other checkov CloudFormation check must pass):
#   CKV_AWS_27   SQS encryption: false positive, it only knows KmsMasterKeyId; the queues use SqsManagedSseEnabled
#   CKV_AWS_115  reserved concurrency: consumer concurrency is bounded by the event source's MaximumConcurrency;
#                reserving concurrency fails deploys on new accounts whose concurrency quota is still 10
#   CKV_AWS_116  Lambda DLQ: only async invokes use one; failed scheduled jobs are idempotent and re-run on
#                schedule, and sync records have SyncDeadLetterQueue (redrive)
#   CKV_AWS_117  VPC: the functions reach only public APIs and AWS services; a VPC would add NAT cost and latency
#   CKV_AWS_119, CKV_AWS_149, CKV_AWS_158, CKV_AWS_173  customer-managed KMS keys for tables, the secret,
#                log groups and environment variables: encrypted at rest with AWS-managed keys already; a CMK
#                each costs money and key administration for no threat this service faces (secrets live in
#                Secrets Manager, never in environment variables)
CHECKOV_SKIP := CKV_AWS_27,CKV_AWS_115,CKV_AWS_116,CKV_AWS_117,CKV_AWS_119,CKV_AWS_149,CKV_AWS_158,CKV_AWS_173

# checkov pins its own boto3 (apart from sam's): a third virtualenv. BC_SKIP_MAPPING keeps it offline.
security: $(CHECKOV_STAMP)
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --quiet --compact --framework cloudformation \
		--skip-check $(CHECKOV_SKIP) --file template.yaml
