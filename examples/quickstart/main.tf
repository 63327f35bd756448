# The quick-start estate: a VPC with a public web tier, a database reachable only from the web
# tier, a locked-down default security group and a private network ACL.
# scripts/example.sh creates exactly this in moto (a local AWS emulator) and writes the state
# Terraform would have written for it, so driftgate can be tried without an AWS account.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

# Inline rules: the group's ingress/egress blocks are the whole truth.
resource "aws_security_group" "web" {
  name        = "web"
  description = "Managed by Terraform"
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "HTTPS from anywhere"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = { Name = "web" }
}

# Rules as separate resources: driftgate merges them into one expected rule set per group.
resource "aws_security_group" "db" {
  name        = "db"
  description = "Managed by Terraform"
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "db", data-classification = "confidential" }
}

resource "aws_vpc_security_group_ingress_rule" "db_from_web" {
  security_group_id            = aws_security_group.db.id
  referenced_security_group_id = aws_security_group.web.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

# No rules at all (CIS AWS Foundations 5.4).
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}

resource "aws_network_acl" "private" {
  vpc_id = aws_vpc.main.id

  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    from_port  = 5432
    to_port    = 5432
    cidr_block = "10.0.0.0/16"
  }

  ingress {
    rule_no    = 200
    action     = "deny"
    protocol   = "tcp"
    from_port  = 22
    to_port    = 22
    cidr_block = "0.0.0.0/0"
  }

  egress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    from_port  = 0
    to_port    = 0
    cidr_block = "10.0.0.0/16"
  }
}
