"""A mixed AWS estate in moto and its Terraform state, shaped the way terraform-provider-aws records
each resource: security groups with inline ingress and an egress rule resource, network ACLs, IAM
roles with an attached managed policy, instances, load balancers, launch templates, Lambda functions and
ElastiCache clusters guarded by one of the groups, managed policies, buckets with Block Public Access and
default encryption, KMS keys, EBS volumes, RDS instances, and the account-wide settings (EBS
encryption by default, the account's Block Public Access).

Used by the benchmark (scripts/bench.py, at 10,000 state resources) and by the fault-injection
test (tests/fault_matrix.rs, a few of each), so both exercise every AWS family driftgate reads.

    mixed_estate.py ENDPOINT STATE_OUT [--prefix P] [--account ID] [--scale N | counts...] [--drift]
                    [--state-bucket B]

`--account ID` seeds another moto account (moto's `x-moto-account-id` header): an estate whose
account-wide settings (EBS encryption by default, the account's Block Public Access) no other test
shares. The script then creates an access key in that account and prints it: moto maps requests
signed with it to the account, so driftgate needs no emulator-specific header. `--drift` changes
one object of every family the way a console user would (each change one driftgate must report).
"""

import argparse
import concurrent.futures
import json
import sys
import time

import boto3

REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Sid": "", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "", "Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": ["*"]}]}

# The counts of one unit of --scale 1 (the benchmark's 10,000-resource estate is --scale 1).
UNIT = {"groups": 4000, "rules": 2000, "acls": 40, "roles": 1500, "policies": 1000, "buckets": 500,
        "keys": 200, "volumes": 500, "databases": 50, "instances": 50, "balancers": 20,
        "templates": 20, "functions": 20, "caches": 10}

# A zip archive with no files: moto keeps a function's code without running it.
EMPTY_ZIP = b"PK\x05\x06" + b"\0" * 18


def sg_block(proto, from_port, to_port, cidrs):
    return {"cidr_blocks": cidrs, "description": "", "from_port": from_port, "ipv6_cidr_blocks": [],
            "prefix_list_ids": [], "protocol": proto, "security_groups": [], "self": False, "to_port": to_port}


def instance(attrs, index=None):
    inst = {"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}
    if index is not None:
        inst["index_key"] = index
    return inst


def resource(rtype, name, instances, module=None):
    r = {"mode": "managed", "type": rtype, "name": name, "provider": PROVIDER, "instances": instances}
    if module:
        r["module"] = module
    if instances and "index_key" in instances[0]:
        r["each"] = "map" if isinstance(instances[0]["index_key"], str) else "list"
    return r


class Estate:
    def __init__(self, endpoint, account, prefix, workers=8, region=REGION):
        self.region = region
        self.account = account or DEFAULT_ACCOUNT
        self.prefix = prefix
        self.pool = concurrent.futures.ThreadPoolExecutor(workers)
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name=region)
        kw = {"endpoint_url": endpoint}
        self.ec2 = session.client("ec2", **kw)
        self.iam = session.client("iam", **kw)
        self.s3 = session.client("s3", **kw)
        # S3 Control puts the account id in front of the host (`ID.127.0.0.1`): not on loopback.
        self.s3control = session.client("s3control", **kw)
        self.s3control.meta.events.register("before-sign.s3-control.*", self._unprefixed)
        self.kms = session.client("kms", **kw)
        self.rds = session.client("rds", **kw)
        self.elbv2 = session.client("elbv2", **kw)
        self.awslambda = session.client("lambda", **kw)
        self.elasticache = session.client("elasticache", **kw)
        if account:
            for client in (self.ec2, self.iam, self.s3, self.s3control, self.kms, self.rds, self.elbv2,
                           self.awslambda, self.elasticache):
                client.meta.events.register("before-sign", self._in_account)
        self.resources = []
        self.first = {}
        self.groups = []

    def _unprefixed(self, request, **_):
        request.url = request.url.replace(f"//{self.account}.", "//", 1)

    def _in_account(self, request, **_):
        request.headers["x-moto-account-id"] = self.account

    def access_key(self):
        """An access key of the estate's account, for driftgate (moto maps it to the account)."""
        user = f"{self.prefix}-driftgate"
        self.iam.create_user(UserName=user)
        key = self.iam.create_access_key(UserName=user)["AccessKey"]
        return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}

    def each(self, fn, n):
        return list(self.pool.map(fn, range(n)))

    def network(self, groups, rules, acls):
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.first["vpc"] = vpc

        def group(i):
            gid = self.ec2.create_security_group(GroupName=f"{self.prefix}-sg-{i}", Description="Managed by Terraform",
                                                 VpcId=vpc)["GroupId"]
            self.ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
            egress = []
            if i < rules:
                cidr = f"10.{i % 250}.0.0/16"
                self.ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": cidr}]}])
                # Egress is managed by the rule resource: the inline copy is the provider's refresh.
                egress = [sg_block("tcp", 5432, 5432, [cidr])]
            sg = instance({"arn": f"arn:aws:ec2:{self.region}:{self.account}:security-group/{gid}", "id": gid,
                           "name": f"{self.prefix}-sg-{i}", "description": "Managed by Terraform",
                           "owner_id": self.account, "vpc_id": vpc, "tags": {}, "tags_all": {},
                           "revoke_rules_on_delete": False, "egress": egress,
                           "ingress": [sg_block("tcp", 443, 443, ["10.0.0.0/8"])]}, f"svc-{i}")
            rule = egress and instance({
                "type": "egress", "security_group_id": gid, "protocol": "tcp", "from_port": 5432, "to_port": 5432,
                "cidr_blocks": egress[0]["cidr_blocks"], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
                "self": False, "source_security_group_id": None, "id": f"sgrule-{i}", "description": ""}, f"svc-{i}")
            return gid, sg, rule

        made = self.each(group, groups)
        self.first["group"] = made[0][0] if made else None
        self.groups = [m[0] for m in made]
        self.resources.append(resource("aws_security_group", "this", [m[1] for m in made], "module.services"))
        self.resources.append(resource("aws_security_group_rule", "db", [m[2] for m in made if m[2]],
                                       "module.services"))

        def acl(i):
            aid = self.ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
            self.ec2.create_network_acl_entry(NetworkAclId=aid, RuleNumber=100, Protocol="6", RuleAction="allow",
                                              Egress=False, CidrBlock="10.0.0.0/8", PortRange={"From": 443, "To": 443})
            return aid, instance({
                "arn": f"arn:aws:ec2:{self.region}:{self.account}:network-acl/{aid}", "id": aid, "owner_id": self.account,
                "vpc_id": vpc, "subnet_ids": [], "tags": {}, "tags_all": {}, "egress": [],
                "ingress": [{"action": "allow", "cidr_block": "10.0.0.0/8", "from_port": 443, "to_port": 443,
                             "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": "", "protocol": "6",
                             "rule_no": 100}]}, i)

        made = self.each(acl, acls)
        self.first["acl"] = made[0][0] if made else None
        self.resources.append(resource("aws_network_acl", "tier", [m[1] for m in made]))

    def instances(self, count):
        """Instances guarded by the first group, as `aws_instance` records them."""
        if not count or not self.groups:
            return
        subnet = self.ec2.create_subnet(VpcId=self.first["vpc"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        image = self.ec2.describe_images()["Images"][0]["ImageId"]
        launched = []
        for start in range(0, count, 100):
            n = min(100, count - start)
            launched += self.ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=n, MaxCount=n,
                                               SubnetId=subnet, SecurityGroupIds=[self.groups[0]])["Instances"]
        made = []
        for i, inst in enumerate(launched):
            iid = inst["InstanceId"]
            made.append(instance({
                "id": iid, "arn": f"arn:aws:ec2:{self.region}:{self.account}:instance/{iid}", "ami": image,
                "instance_type": "t3.micro", "subnet_id": subnet,
                "primary_network_interface_id": inst["NetworkInterfaces"][0]["NetworkInterfaceId"],
                "vpc_security_group_ids": [self.groups[0]], "security_groups": [], "tags": {}, "tags_all": {}},
                f"h{i}"))
        self.first["eni"] = launched[0]["NetworkInterfaces"][0]["NetworkInterfaceId"]
        self.first["subnet"] = subnet
        self.resources.append(resource("aws_instance", "host", made, "module.fleet"))

    def templates(self, count):
        """Launch templates whose interface is guarded by the first group."""
        if not count or not self.groups:
            return

        def template(i):
            name = f"{self.prefix}-lt-{i}"
            lt = self.ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
                "ImageId": "ami-12c6146b",
                "NetworkInterfaces": [{"DeviceIndex": 0, "Groups": [self.groups[0]]}]})["LaunchTemplate"]
            lid = lt["LaunchTemplateId"]
            return lid, instance({
                "id": lid, "arn": f"arn:aws:ec2:{self.region}:{self.account}:launch-template/{lid}", "name": name,
                "image_id": "ami-12c6146b", "latest_version": 1, "default_version": 1,
                "vpc_security_group_ids": [], "security_group_names": [],
                "network_interfaces": [{"device_index": 0, "security_groups": [self.groups[0]]}],
                "tags": {}, "tags_all": {}}, f"lt{i}")

        made = self.each(template, count)
        self.first["template"] = made[0][0]
        self.resources.append(resource("aws_launch_template", "fleet", [m[1] for m in made], "module.fleet"))

    def balancers(self, count):
        """Internet-facing application load balancers guarded by the first group."""
        if not count or not self.groups:
            return
        subnets = [self.ec2.create_subnet(VpcId=self.first["vpc"], CidrBlock=cidr, AvailabilityZone=az)
                   ["Subnet"]["SubnetId"] for cidr, az in (("10.0.2.0/24", "us-east-1a"), ("10.0.3.0/24", "us-east-1b"))]

        def balancer(i):
            name = f"{self.prefix}-lb-{i}"[-32:].strip("-")
            lb = self.elbv2.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=[self.groups[0]],
                                                 Scheme="internet-facing")["LoadBalancers"][0]
            arn = lb["LoadBalancerArn"]
            return arn, instance({"arn": arn, "id": arn, "name": name, "internal": False,
                                  "load_balancer_type": "application", "security_groups": [self.groups[0]],
                                  "subnets": subnets, "tags": {}, "tags_all": {}}, f"lb{i}")

        made = self.each(balancer, count)
        self.first["balancer"] = made[0][0]
        self.resources.append(resource("aws_lb", "edge", [m[1] for m in made], "module.edge"))

    def functions(self, count):
        """Lambda functions in the VPC, guarded by the first group."""
        if not count or not self.groups:
            return
        subnet = self.ec2.create_subnet(VpcId=self.first["vpc"], CidrBlock="10.0.4.0/24")["Subnet"]["SubnetId"]
        role = self.iam.create_role(RoleName=f"{self.prefix}-fn", AssumeRolePolicyDocument=json.dumps(TRUST))
        role_arn = role["Role"]["Arn"]

        def function(i):
            name = f"{self.prefix}-fn-{i}"
            f = self.awslambda.create_function(
                FunctionName=name, Runtime="python3.12", Role=role_arn, Handler="index.handler",
                Code={"ZipFile": EMPTY_ZIP}, VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [self.groups[0]]})
            arn = f["FunctionArn"]
            return name, instance({
                "id": name, "function_name": name, "arn": arn, "qualified_arn": f"{arn}:$LATEST",
                "role": role_arn, "runtime": "python3.12", "handler": "index.handler",
                "vpc_config": [{"security_group_ids": [self.groups[0]], "subnet_ids": [subnet],
                                "vpc_id": f["VpcConfig"]["VpcId"], "ipv6_allowed_for_dual_stack": False}],
                "tags": {}, "tags_all": {}}, f"fn{i}")

        made = self.each(function, count)
        self.first["function"] = made[0][0]
        self.first["function_gone"] = made[-1][0] if len(made) > 1 else None
        self.resources.append(resource("aws_lambda_function", "worker", [m[1] for m in made], "module.workers"))

    def caches(self, count):
        """ElastiCache clusters. moto keeps their security groups but leaves `SecurityGroups` out of
        its answers, so the state records none, as the provider would read them back from moto."""
        if not count:
            return

        def cache(i):
            cid = f"{self.prefix}-c{i}"[-40:].strip("-")
            c = self.elasticache.create_cache_cluster(CacheClusterId=cid, Engine="redis",
                                                      CacheNodeType="cache.t3.micro", NumCacheNodes=1)
            arn = c["CacheCluster"]["ARN"]
            return cid, instance({"id": cid, "cluster_id": cid, "arn": arn, "engine": "redis",
                                  "node_type": "cache.t3.micro", "num_cache_nodes": 1, "security_group_ids": [],
                                  "tags": {}, "tags_all": {}}, f"c{i}")

        made = self.each(cache, count)
        self.resources.append(resource("aws_elasticache_cluster", "cache", [m[1] for m in made], "module.cache"))

    def identity(self, roles, policies):
        def policy(i):
            name = f"{self.prefix}-policy-{i}"
            arn = self.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
            return arn, instance({"arn": arn, "id": arn, "name": name, "name_prefix": "", "path": "/",
                                  "description": "", "policy": json.dumps(POLICY), "policy_id": f"ANPA{i:016d}",
                                  "tags": {}, "tags_all": {}}, f"p{i}")

        made = self.each(policy, policies)
        arns = [m[0] for m in made]
        self.first["policy"] = arns[0] if arns else None
        self.resources.append(resource("aws_iam_policy", "this", [m[1] for m in made], "module.iam"))

        def role(i):
            name = f"{self.prefix}-role-{i}"
            arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
            attached = []
            if arns:
                attached = [arns[i % len(arns)]]
                self.iam.attach_role_policy(RoleName=name, PolicyArn=attached[0])
            return name, instance({"arn": arn, "id": name, "name": name, "name_prefix": "", "path": "/",
                                   "description": "", "assume_role_policy": json.dumps(TRUST),
                                   "force_detach_policies": False, "max_session_duration": 3600,
                                   "permissions_boundary": None, "managed_policy_arns": attached,
                                   "inline_policy": [], "tags": {}, "tags_all": {}}, f"r{i}")

        made = self.each(role, roles)
        self.first["role"] = made[0][0] if made else None
        self.resources.append(resource("aws_iam_role", "this", [m[1] for m in made], "module.iam"))
        if made:
            # The inline policy of the first role is its own resource (the role's copy tolerates it).
            self.iam.put_role_policy(RoleName=made[0][0], PolicyName="inline", PolicyDocument=json.dumps(POLICY))
            self.resources.append(resource("aws_iam_role_policy", "inline", [instance({
                "id": f"{made[0][0]}:inline", "name": "inline", "name_prefix": "", "role": made[0][0],
                "policy": json.dumps(POLICY)})], "module.iam"))
        self.people(arns[0] if arns else None)

    def people(self, policy_arn):
        """A user with an inline and an attached policy, and a group with an inline policy."""
        user, group = f"{self.prefix}-user", f"{self.prefix}-group"
        arn = self.iam.create_user(UserName=user)["User"]["Arn"]
        self.iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=json.dumps(POLICY))
        garn = self.iam.create_group(GroupName=group)["Group"]["Arn"]
        self.iam.put_group_policy(GroupName=group, PolicyName="inline", PolicyDocument=json.dumps(POLICY))
        self.resources += [
            resource("aws_iam_user", "ci", [instance({"arn": arn, "id": user, "name": user, "path": "/",
                                                      "permissions_boundary": None, "force_destroy": False,
                                                      "tags": {}, "tags_all": {}})]),
            resource("aws_iam_user_policy", "ci", [instance({"id": f"{user}:inline", "name": "inline",
                                                             "name_prefix": "", "user": user,
                                                             "policy": json.dumps(POLICY)})]),
            resource("aws_iam_group", "ops", [instance({"arn": garn, "id": group, "name": group, "path": "/"})]),
            resource("aws_iam_group_policy", "ops", [instance({"id": f"{group}:inline", "name": "inline",
                                                               "name_prefix": "", "group": group,
                                                               "policy": json.dumps(POLICY)})]),
        ]
        if policy_arn:
            self.iam.attach_user_policy(UserName=user, PolicyArn=policy_arn)
            self.resources.append(resource("aws_iam_user_policy_attachment", "ci", [instance({
                "id": f"{user}-20260101000000000000000001", "user": user, "policy_arn": policy_arn})]))

    def storage(self, buckets):
        def bucket(i):
            name = f"{self.prefix}-bucket-{i}"
            self.s3.create_bucket(Bucket=name)
            self.s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
            self.s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]})
            pab = instance({"id": name, "bucket": name, "block_public_acls": True, "block_public_policy": True,
                            "ignore_public_acls": True, "restrict_public_buckets": True, "skip_destroy": None},
                           f"b{i}")
            sse = instance({"id": name, "bucket": name, "expected_bucket_owner": "", "rule": [
                {"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": ""}],
                 "bucket_key_enabled": False}]}, f"b{i}")
            return name, pab, sse

        made = self.each(bucket, buckets)
        self.first["bucket"] = made[0][0] if made else None
        if made:
            name = made[0][0]
            tls = {"Version": "2012-10-17", "Statement": [{
                "Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
            self.s3.put_bucket_policy(Bucket=name, Policy=json.dumps(tls))
            self.resources.append(resource("aws_s3_bucket_policy", "this", [instance({
                "id": name, "bucket": name, "policy": json.dumps(tls)})]))
            self.resources.append(resource("aws_s3_bucket_acl", "this", [instance({
                "id": f"{name},private", "bucket": name, "acl": "private", "expected_bucket_owner": ""})]))
        self.resources.append(resource("aws_s3_bucket_public_access_block", "this", [m[1] for m in made],
                                       "module.buckets"))
        self.resources.append(resource("aws_s3_bucket_server_side_encryption_configuration", "this",
                                       [m[2] for m in made], "module.buckets"))

    def keys(self, keys):
        def key(i):
            meta = self.kms.create_key(Description=f"{self.prefix} key {i}")["KeyMetadata"]
            kid = meta["KeyId"]
            self.kms.enable_key_rotation(KeyId=kid)
            policy = self.kms.get_key_policy(KeyId=kid, PolicyName="default")["Policy"]
            return kid, instance({"arn": meta["Arn"], "id": kid, "key_id": kid, "description": meta["Description"],
                                  "customer_master_key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT",
                                  "deletion_window_in_days": 30, "enable_key_rotation": True, "is_enabled": True,
                                  "multi_region": False, "policy": policy, "tags": {}, "tags_all": {}}, f"k{i}")

        made = self.each(key, keys)
        self.first["key"] = made[0][0] if made else None
        self.resources.append(resource("aws_kms_key", "this", [m[1] for m in made], "module.keys"))

    def volumes(self, volumes):
        def volume(i):
            v = self.ec2.create_volume(AvailabilityZone=f"{self.region}a", Size=8, VolumeType="gp3", Encrypted=True)
            vid = v["VolumeId"]
            return vid, instance({"arn": f"arn:aws:ec2:{self.region}:{self.account}:volume/{vid}", "id": vid,
                                  "availability_zone": f"{self.region}a", "encrypted": True,
                                  "kms_key_id": v.get("KmsKeyId", ""), "size": 8, "type": "gp3",
                                  "iops": v.get("Iops", 0), "multi_attach_enabled": False, "snapshot_id": "",
                                  "tags": {}, "tags_all": {}}, f"v{i}")

        made = self.each(volume, volumes)
        self.resources.append(resource("aws_ebs_volume", "data", [m[1] for m in made], "module.fleet"))

    def databases(self, databases):
        def database(i):
            name = f"{self.prefix}-db-{i}"
            db = self.rds.create_db_instance(DBInstanceIdentifier=name, Engine="postgres",
                                             DBInstanceClass="db.t3.micro", MasterUsername="app",
                                             MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
                                             StorageEncrypted=True, PubliclyAccessible=False)["DBInstance"]
            return name, instance({"arn": db["DBInstanceArn"], "id": db["DbiResourceId"], "identifier": name,
                                   "resource_id": db["DbiResourceId"], "engine": "postgres",
                                   "instance_class": "db.t3.micro", "allocated_storage": 20,
                                   "publicly_accessible": False, "storage_encrypted": True,
                                   "kms_key_id": db.get("KmsKeyId", ""), "deletion_protection": False,
                                   "iam_database_authentication_enabled": False, "username": "app",
                                   # The provider records the groups RDS chose (the VPC's default).
                                   "vpc_security_group_ids": [g["VpcSecurityGroupId"]
                                                              for g in db.get("VpcSecurityGroups", [])],
                                   "tags": {}, "tags_all": {}}, f"d{i}")

        made = self.each(database, databases)
        self.first["database"] = made[0][0] if made else None
        self.resources.append(resource("aws_db_instance", "this", [m[1] for m in made], "module.data"))
        if databases:
            name = f"{self.prefix}-cluster"
            c = self.rds.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql",
                                           MasterUsername="app", MasterUserPassword="not-a-secret-1",
                                           StorageEncrypted=True)["DBCluster"]
            self.resources.append(resource("aws_rds_cluster", "this", [instance({
                "arn": c["DBClusterArn"], "id": name, "cluster_identifier": name, "engine": "aurora-postgresql",
                "cluster_resource_id": c.get("DbClusterResourceId", ""), "storage_encrypted": True,
                "kms_key_id": c.get("KmsKeyId", ""), "master_username": "app", "deletion_protection": False,
                "publicly_accessible": c.get("PubliclyAccessible", False),
                "vpc_security_group_ids": [g["VpcSecurityGroupId"] for g in c.get("VpcSecurityGroups", [])],
                "tags": {}, "tags_all": {}})], "module.data"))

    def account_settings(self):
        self.ec2.enable_ebs_encryption_by_default()
        self.s3control.put_public_access_block(AccountId=self.account, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        self.resources.append(resource("aws_ebs_encryption_by_default", "this", [
            instance({"id": "terraform-20260101000000000000000001", "enabled": True})]))
        self.resources.append(resource("aws_s3_account_public_access_block", "this", [
            instance({"id": self.account, "account_id": self.account, "block_public_acls": True,
                      "block_public_policy": True, "ignore_public_acls": True,
                      "restrict_public_buckets": True})]))

    def drift(self):
        """One console change per family, each one driftgate must report."""
        f = self.first
        if f.get("group"):
            self.ec2.authorize_security_group_ingress(GroupId=f["group"], IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        if f.get("acl"):
            self.ec2.create_network_acl_entry(NetworkAclId=f["acl"], RuleNumber=90, Protocol="6", RuleAction="allow",
                                              Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22})
        if f.get("policy"):
            wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            self.iam.create_policy_version(PolicyArn=f["policy"], PolicyDocument=json.dumps(wide), SetAsDefault=True)
        if f.get("role"):
            trust = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]}
            self.iam.update_assume_role_policy(RoleName=f["role"], PolicyDocument=json.dumps(trust))
        if f.get("bucket"):
            self.s3.put_public_access_block(Bucket=f["bucket"], PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True})
            # (Deleting the configuration would not do: S3 then encrypts with SSE-S3, as declared.)
            self.s3.put_bucket_encryption(Bucket=f["bucket"], ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]})
        if f.get("key"):
            self.kms.disable_key_rotation(KeyId=f["key"])
        if f.get("database"):
            self.rds.modify_db_instance(DBInstanceIdentifier=f["database"], PubliclyAccessible=True,
                                        ApplyImmediately=True)
        if f.get("template") and len(self.groups) > 1:
            self.ec2.create_launch_template_version(LaunchTemplateId=f["template"], LaunchTemplateData={
                "ImageId": "ami-12c6146b",
                "NetworkInterfaces": [{"DeviceIndex": 0, "Groups": self.groups[:2]}]})
        if f.get("balancer") and len(self.groups) > 1:
            self.elbv2.set_security_groups(LoadBalancerArn=f["balancer"], SecurityGroups=self.groups[:2])
        if f.get("function") and len(self.groups) > 1:
            config = self.awslambda.get_function_configuration(FunctionName=f["function"])["VpcConfig"]
            self.awslambda.update_function_configuration(FunctionName=f["function"], VpcConfig={
                "SubnetIds": config["SubnetIds"], "SecurityGroupIds": self.groups[:2]})
        if f.get("function_gone"):
            self.awslambda.delete_function(FunctionName=f["function_gone"])
        # (No cache change: moto answers without a cluster's groups, and lists a deleted one.)
        if f.get("eni") and f.get("subnet"):
            # The first host made reachable from the internet: an Elastic IP, and its subnet routed
            # to an internet gateway (what driftgate reads to rank the group's drift).
            igw = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
            self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=f["vpc"])
            table = self.ec2.create_route_table(VpcId=f["vpc"])["RouteTable"]["RouteTableId"]
            self.ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
            self.ec2.associate_route_table(RouteTableId=table, SubnetId=f["subnet"])
            ip = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
            self.ec2.associate_address(AllocationId=ip, NetworkInterfaceId=f["eni"])
        if f.get("eni") and len(self.groups) > 1:
            # A second group attached to an instance by hand.
            self.ec2.modify_network_interface_attribute(NetworkInterfaceId=f["eni"],
                                                        Groups=[self.groups[0], self.groups[1]])
        self.ec2.disable_ebs_encryption_by_default()
        self.s3control.put_public_access_block(AccountId=self.account, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})

    def state(self):
        resources = [r for r in self.resources if r["instances"]]
        return {"version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": f"mixed-{self.prefix}",
                "outputs": {}, "resources": resources}


def build(endpoint, counts, account=None, prefix="mixed", drift=False, workers=8, state_bucket=None):
    """Seeds the estate; returns (state document, number of state resources, seconds, credentials:
    None in the default account, the state's s3:// URL when `state_bucket` is given)."""
    t0 = time.monotonic()
    e = Estate(endpoint, account, prefix, workers)
    e.network(counts["groups"], counts["rules"], counts["acls"])
    e.instances(counts["instances"])
    e.balancers(counts["balancers"])
    e.templates(counts["templates"])
    e.functions(counts["functions"])
    e.caches(counts["caches"])
    e.identity(counts["roles"], counts["policies"])
    e.storage(counts["buckets"])
    e.keys(counts["keys"])
    e.volumes(counts["volumes"])
    e.databases(counts["databases"])
    e.account_settings()
    if drift:
        e.drift()
    state = e.state()
    n = sum(len(r["instances"]) for r in state["resources"])
    seconds = time.monotonic() - t0
    url = None
    if state_bucket:
        # A remote state, as the S3 backend keeps it.
        e.s3.create_bucket(Bucket=state_bucket)
        e.s3.put_object(Bucket=state_bucket, Key=f"{prefix}/terraform.tfstate", Body=json.dumps(state).encode())
        url = f"s3://{state_bucket}/{prefix}/terraform.tfstate"
    return state, n, seconds, e.access_key() if account else None, url


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("endpoint")
    ap.add_argument("state_out")
    ap.add_argument("--prefix", default="mixed")
    ap.add_argument("--account", default=None)
    ap.add_argument("--scale", type=float, default=None, help="multiple of the 10,000-resource estate")
    for k, v in UNIT.items():
        ap.add_argument(f"--{k}", type=int, default=None, help=f"default {v} x scale")
    ap.add_argument("--drift", action="store_true")
    ap.add_argument("--state-bucket", default=None, help="also upload the state to this bucket (S3 backend)")
    args = ap.parse_args()
    if args.account is not None and not (len(args.account) == 12 and args.account.isdigit()):
        sys.exit("--account must be a 12-digit account id")
    scale = 1.0 if args.scale is None else args.scale
    counts = {k: getattr(args, k) if getattr(args, k) is not None else max(1, round(v * scale))
              for k, v in UNIT.items()}
    state, n, seconds, credentials, url = build(args.endpoint, counts, args.account, args.prefix, args.drift,
                                                state_bucket=args.state_bucket)
    with open(args.state_out, "w") as f:
        json.dump(state, f)
    print(json.dumps({"resources": n, "seconds": round(seconds, 1), "counts": counts, "credentials": credentials,
                      "state_url": url}))


if __name__ == "__main__":
    main()
