"""driftgate benchmark: wall time, API calls and peak memory of `driftgate check` on a large estate
in moto, and parse time and memory for a large state file. Run through scripts/bench.sh.

    bench.py BINARY ENDPOINT [--groups N] [--state-mb M] [--azure-nsgs N] [--gcp-firewalls N]
             [--mixed-scale X] [--history-records N] [--accounts N] [--account-regions R]
             [--account-resources M]

The organization (--accounts, default 20 x 2 regions x 500 resources) is one state per account and
region in moto's accounts, checked in one run from an account that owns none of them: every
account is read with its role (`--aws-role`).

The mixed estate (scripts/mixed_estate.py: groups, rule resources, ACLs, roles, policies, buckets
with two settings each, KMS keys, volumes, databases; 10,000 state resources at --mixed-scale 1)
is checked by driftgate and, in the same run, read the way a refresh reads it: one read per
resource (the calls terraform-provider-aws makes for each type), with boto3 at parallelism 10.
The two are compared in calls and wall time.

The Azure and Google Cloud estates are served by a loopback server in this process (no emulator
exists): ARM GETs and Resource Graph queries for NSGs shaped like the recorded ARM answer in
tests/fixtures/shared/azure, and Compute firewalls (GET and list pages). They measure driftgate's
side: calls, wall time, memory.

Numbers are printed as a table and as JSON (last line). Not a test: nothing is asserted.
"""

import argparse
import concurrent.futures
import http.server
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mixed_estate  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'


def run(binary, args, env):
    """Runs the binary; returns (exit code, stdout, wall seconds, peak RSS in MiB) of that child alone.

    The peak is the child's own `VmHWM`, polled from /proc until it exits: `ru_maxrss` of a
    forked child also counts the pages of this Python process it was forked from (hundreds of
    MiB once a large state has been built here), while `VmHWM` belongs to the program exec'd."""
    start = time.monotonic()
    proc = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = [], []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read())) for s, b in
               ((proc.stdout, out), (proc.stderr, err))]
    for t in readers:
        t.start()
    peak_kib = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak_kib = max(peak_kib, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        time.sleep(0.005)
    for t in readers:
        t.join()
    wall = time.monotonic() - start
    code = proc.returncode
    if code not in (0, 1):
        sys.exit(f"driftgate failed ({code}):\n{b''.join(err).decode()}")
    return code, b"".join(out), wall, peak_kib / 1024


def sg_block(proto, from_port, to_port, cidrs):
    return {"cidr_blocks": cidrs, "description": "", "from_port": from_port, "ipv6_cidr_blocks": [],
            "prefix_list_ids": [], "protocol": proto, "security_groups": [], "self": False, "to_port": to_port}


def instance(attrs, index=None):
    inst = {"schema_version": 1, "attributes": attrs, "sensitive_attributes": []}
    if index is not None:
        inst["index_key"] = index
    return inst


def estate(endpoint, groups):
    """`groups` security groups, each with inline ingress and an egress rule resource, in
    modules with for_each keys, plus one network ACL per 50 groups."""
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg_instances, rule_instances, acl_instances = [], [], []
    t0 = time.monotonic()
    for i in range(groups):
        gid = ec2.create_security_group(GroupName=f"bench-{i}", Description="Managed by Terraform", VpcId=vpc)["GroupId"]
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
        ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": f"10.{i % 250}.0.0/16"}]}])
        sg_instances.append(instance({
            "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{gid}", "id": gid, "name": f"bench-{i}",
            "owner_id": ACCOUNT, "vpc_id": vpc, "tags": {}, "tags_all": {},
            # Egress is managed by the rule resource: the inline copy is the provider's refresh.
            "egress": [sg_block("tcp", 5432, 5432, [f"10.{i % 250}.0.0/16"])],
            "ingress": [sg_block("tcp", 443, 443, ["10.0.0.0/8"])]}, f"svc-{i}"))
        rule_instances.append(instance({
            "type": "egress", "security_group_id": gid, "protocol": "tcp", "from_port": 5432, "to_port": 5432,
            "cidr_blocks": [f"10.{i % 250}.0.0/16"], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
            "self": False, "source_security_group_id": None, "id": f"sgrule-{i}", "description": ""}, f"svc-{i}"))
        if i % 50 == 0:
            acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow",
                                         Egress=False, CidrBlock="10.0.0.0/8", PortRange={"From": 443, "To": 443})
            acl_instances.append(instance({
                "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-acl/{acl}", "id": acl, "owner_id": ACCOUNT,
                "vpc_id": vpc, "subnet_ids": [], "tags": {}, "tags_all": {}, "egress": [],
                "ingress": [{"action": "allow", "cidr_block": "10.0.0.0/8", "from_port": 443, "to_port": 443,
                             "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": "", "protocol": "6", "rule_no": 100}]}, len(acl_instances)))
    seconds = time.monotonic() - t0
    resources = [
        {"module": "module.services", "mode": "managed", "type": "aws_security_group", "name": "this",
         "each": "map", "provider": PROVIDER, "instances": sg_instances},
        {"module": "module.services", "mode": "managed", "type": "aws_security_group_rule", "name": "db",
         "each": "map", "provider": PROVIDER, "instances": rule_instances},
        {"mode": "managed", "type": "aws_network_acl", "name": "tier", "each": "list", "provider": PROVIDER,
         "instances": acl_instances},
    ]
    state = {"version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": "bench", "outputs": {}, "resources": resources}
    return state, len(sg_instances) + len(rule_instances) + len(acl_instances), seconds


def big_state(path, megabytes):
    """A state of about `megabytes` MB: instances of a type no family reads (so driftgate parses
    everything and reads nothing), with realistic attribute bulk."""
    pad = {"kms_key_id": "", "retention_in_days": 30, "skip_destroy": False,
           "description": "#!/bin/bash\n" + "echo configure\n" * 40, "tags": {f"k{i}": f"v{i}" for i in range(20)}}
    one = len(json.dumps(instance({"id": "/aws/app/0123456789abcdef0", **pad}, "x")))
    count = megabytes * 1024 * 1024 // one
    instances = [instance({"id": f"/aws/app/{n:017x}", "name": f"/aws/app/{n:017x}", **pad}, f"log-{n}")
                 for n in range(count)]
    state = {"version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": "bench", "outputs": {},
             "resources": [{"module": "module.logs", "mode": "managed", "type": "aws_cloudwatch_log_group",
                            "name": "this", "each": "map", "provider": PROVIDER, "instances": instances}]}
    with open(path, "w") as f:
        json.dump(state, f)
    return count, os.path.getsize(path)


SUB = "00000000-0000-0000-0000-00000000b001"


def nsg_body(i):
    nsg_id = f"/subscriptions/{SUB}/resourceGroups/bench/providers/Microsoft.Network/networkSecurityGroups/nsg-{i}"
    rules = [{"name": f"r{p}", "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": str(443 + p),
              "sourceAddressPrefix": "10.0.0.0/8", "destinationAddressPrefix": "*", "access": "Allow", "priority": 100 + p,
              "direction": "Inbound", "sourcePortRanges": [], "destinationPortRanges": [], "sourceAddressPrefixes": [],
              "destinationAddressPrefixes": []}} for p in range(3)]
    return nsg_id, {"id": nsg_id, "name": f"nsg-{i}", "location": "westeurope", "properties": {"securityRules": rules}}


def firewall_body(i):
    return {"kind": "compute#firewall", "name": f"fw-{i}", "direction": "INGRESS", "priority": 1000, "disabled": False,
            "sourceRanges": ["10.0.0.0/8"], "targetTags": [f"svc-{i}"], "allowed": [{"IPProtocol": "tcp", "ports": ["443", "8443"]}]}


class CloudServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, nsgs, firewalls):
        self.nsgs = {k.lower(): v for k, v in nsgs.items()}
        self.firewalls = firewalls
        super().__init__(("127.0.0.1", 0), CloudHandler)


class CloudHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ids = re.findall(r"'([^']+)'", body["query"])
        rows = [{"id": i, "properties": self.server.nsgs[i.lower()]["properties"]} for i in ids if i.lower() in self.server.nsgs]
        self.reply(200, {"totalRecords": len(rows), "count": len(rows), "data": rows})

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/subscriptions/"):
            nsg = self.server.nsgs.get(url.path.lower())
            return self.reply(200, nsg) if nsg else self.reply(404, {"error": {"code": "NotFound"}})
        if url.path == "/compute/v1/projects/bench/global/firewalls":
            q = urllib.parse.parse_qs(url.query)
            start = int(q.get("pageToken", ["0"])[0])
            page = self.server.firewalls[start:start + 500]
            body = {"items": page}
            if start + 500 < len(self.server.firewalls):
                body["nextPageToken"] = str(start + 500)
            return self.reply(200, body)
        self.reply(404, {"error": {"code": 404}})


def cloud_estates(tmp, nsgs, firewalls):
    """States for `nsgs` Azure NSGs and `firewalls` Google Cloud firewalls, and the server that
    answers for them."""
    nsg_bodies = dict(nsg_body(i) for i in range(nsgs))
    azure = {"version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": "bench-az", "outputs": {}, "resources": [
        {"module": "module.net", "mode": "managed", "type": "azurerm_network_security_group", "name": "this", "each": "map",
         "provider": 'provider["registry.terraform.io/hashicorp/azurerm"]',
         "instances": [instance({"id": nsg_id, "name": body["name"], "location": "westeurope", "security_rule": [
             {"name": r["name"], "priority": r["properties"]["priority"], "direction": "Inbound", "access": "Allow",
              "protocol": "Tcp", "source_port_range": "*", "destination_port_range": r["properties"]["destinationPortRange"],
              "source_address_prefix": "10.0.0.0/8", "destination_address_prefix": "*"} for r in body["properties"]["securityRules"]]},
             body["name"]) for nsg_id, body in nsg_bodies.items()]}]}
    fw_bodies = [firewall_body(i) for i in range(firewalls)]
    gcp = {"version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": "bench-gcp", "outputs": {}, "resources": [
        {"mode": "managed", "type": "google_compute_firewall", "name": "svc", "each": "map",
         "provider": 'provider["registry.terraform.io/hashicorp/google"]',
         "instances": [instance({"id": f"projects/bench/global/firewalls/{b['name']}", "name": b["name"], "project": "bench",
                                 "direction": "INGRESS", "priority": 1000, "disabled": False, "source_ranges": ["10.0.0.0/8"],
                                 "target_tags": b["targetTags"], "allow": [{"protocol": "tcp", "ports": ["8443", "443"]}], "deny": []},
                                b["name"]) for b in fw_bodies]}]}
    paths = []
    for name, state in (("azure.tfstate", azure), ("gcp.tfstate", gcp)):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            json.dump(state, f)
        paths.append(path)
    server = CloudServer(nsg_bodies, fw_bodies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # The Azure CLI stand-in that azure_identity's CLI credential runs.
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    az = os.path.join(bindir, "az")
    with open(az, "w") as f:
        f.write("#!/bin/sh\necho '{\"accessToken\": \"bench\", \"expires_on\": 4102444800, \"tokenType\": \"Bearer\"}'\n")
    os.chmod(az, os.stat(az).st_mode | stat.S_IEXEC)
    return paths, server, bindir


def exposure(binary, endpoint, env, path, state, e_wall):
    """The cost of reading how drifted groups are reached: every 25th group is put on an
    instance with an Elastic IP in a subnet routed to an internet gateway, then every group gets
    SSH from the world in "the console", and the estate is checked again."""
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    groups = [i["attributes"]["id"] for i in state["resources"][0]["instances"]]
    vpc = state["resources"][0]["instances"][0]["attributes"]["vpc_id"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.200.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    public = groups[::25]
    for g in public:
        inst = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                 SubnetId=subnet, SecurityGroupIds=[g])["Instances"][0]
        eni = inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
        ip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.associate_address(AllocationId=ip, NetworkInterfaceId=eni)
    for g in groups:
        ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    code, out, wall, rss = run(binary, ["check", "--quiet", "--format", "json", "--state", path], env)
    report = json.loads(out)
    calls = report["summary"]["api_calls"]
    by = {}
    for d in report["drifts"]:
        by[d["risk"]["exposure"]] = by.get(d["risk"]["exposure"], 0) + 1
    reads = {op: calls.get("ec2", {}).get(op, 0) for op in ("DescribeNetworkInterfaces", "DescribeRouteTables")}
    reads["DescribeLoadBalancers"] = calls.get("elbv2", {}).get("DescribeLoadBalancers", 0)
    return {"drifted_groups": len(groups), "public_groups": len(public), "exposures": by,
            "exposure_calls": reads, "wall_s": round(wall, 2), "clean_wall_s": round(e_wall, 2),
            "peak_rss_mib": round(rss, 1)}


def fix(binary, endpoint, env, tmp, state, calls=False):
    """`driftgate fix` over the estate's module: the groups come from `for_each` over a map the
    root module passes in, each entry listing its HTTPS sources. The state declares a second
    source that "the console" revoked on every group, so each group has one drift to write into
    its own map entry (one file of `groups` entries, edited `groups` times). `calls`: the same
    groups made by one module call per entry instead (`module "services" { for_each = ... }`,
    `https = each.value.https`), each fix followed from the module's variable to the call's
    entry."""
    fixed = json.loads(json.dumps(state))
    keys = []
    for inst in fixed["resources"][0]["instances"]:
        inst["attributes"]["ingress"][0]["cidr_blocks"].append("192.168.0.0/16")
        keys.append(inst["index_key"])
    if calls:
        group = fixed["resources"][0]
        fixed["resources"] = [
            dict(group, module=f'module.services["{inst.pop("index_key")}"]', instances=[inst])
            for inst in group["instances"]]
        for r in fixed["resources"]:
            r.pop("each", None)
    shape = "calls" if calls else "resources"
    path = os.path.join(tmp, f"fix-{shape}.tfstate")
    with open(path, "w") as f:
        json.dump(fixed, f)
    code = os.path.join(tmp, f"code-{shape}")
    os.makedirs(os.path.join(code, "modules", "services"))
    entries = "\n".join(f'    "{k}" = {{\n      https = ["10.0.0.0/8", "192.168.0.0/16"]\n    }}' for k in keys)
    if calls:
        root = (f'locals {{\n  services = {{\n{entries}\n  }}\n}}\n\nmodule "services" {{\n'
                '  for_each = local.services\n  source   = "./modules/services"\n  name     = each.key\n'
                '  https    = each.value.https\n}\n')
        module = ('variable "name" {}\n\nvariable "https" {}\n\nresource "aws_security_group" "this" {\n'
                  '  name = var.name\n\n  ingress {\n    from_port   = 443\n    to_port     = 443\n'
                  '    protocol    = "tcp"\n    cidr_blocks = var.https\n  }\n}\n')
    else:
        root = f'module "services" {{\n  source = "./modules/services"\n  services = {{\n{entries}\n  }}\n}}\n'
        module = ('variable "services" {}\n\nresource "aws_security_group" "this" {\n  for_each = var.services\n'
                  '  name     = each.key\n\n  ingress {\n    from_port   = 443\n    to_port     = 443\n'
                  '    protocol    = "tcp"\n    cidr_blocks = each.value.https\n  }\n}\n')
    with open(os.path.join(code, "main.tf"), "w") as f:
        f.write(root)
    with open(os.path.join(code, "modules", "services", "main.tf"), "w") as f:
        f.write(module)
    code_rc, out, wall, rss = run(binary, ["fix", "--quiet", "--format", "json", "--state", path,
                                           "--source-dir", code], env)
    doc = json.loads(out)
    return {"groups": len(keys), "fixes": len(doc["fixes"]), "manual": len(doc["manual"]),
            "code_bytes": os.path.getsize(os.path.join(code, "main.tf")), "wall_s": round(wall, 2),
            "peak_rss_mib": round(rss, 1)}


def measure(binary, path, env):
    code, out, wall, rss = run(binary, ["check", "--quiet", "--format", "json", "--state", path], env)
    report = json.loads(out)
    calls = sum(n for ops in report["summary"]["api_calls"].values() for n in ops.values())
    return {"resources": report["summary"]["resources_checked"], "verdict": report["verdict"],
            "drifts": report["summary"]["drifts"], "wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1),
            "api_calls": calls, "api_calls_detail": report["summary"]["api_calls"]}


def refresh_pattern(endpoint, state, parallelism=10):
    """One read per state resource, as a refresh does them: (calls, seconds)."""
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
              aws_secret_access_key="testing")
    ec2, iam, s3 = boto3.client("ec2", **kw), boto3.client("iam", **kw), boto3.client("s3", **kw)
    kms, rds, s3c = boto3.client("kms", **kw), boto3.client("rds", **kw), boto3.client("s3control", **kw)
    s3c.meta.events.register("before-sign.s3-control.*",
                             lambda request, **_: setattr(request, "url", request.url.replace(f"//{ACCOUNT}.", "//", 1)))
    reads = {
        "aws_security_group": lambda a: [lambda: ec2.describe_security_groups(GroupIds=[a["id"]])],
        "aws_security_group_rule": lambda a: [lambda: ec2.describe_security_groups(GroupIds=[a["security_group_id"]])],
        "aws_network_acl": lambda a: [lambda: ec2.describe_network_acls(NetworkAclIds=[a["id"]])],
        "aws_iam_role": lambda a: [lambda: iam.get_role(RoleName=a["name"]),
                                   lambda: iam.list_role_policies(RoleName=a["name"]),
                                   lambda: iam.list_attached_role_policies(RoleName=a["name"])],
        "aws_iam_policy": lambda a: [lambda: iam.get_policy(PolicyArn=a["arn"]),
                                     lambda: iam.get_policy_version(PolicyArn=a["arn"], VersionId="v1")],
        "aws_s3_bucket_public_access_block": lambda a: [lambda: s3.get_public_access_block(Bucket=a["bucket"])],
        "aws_s3_bucket_server_side_encryption_configuration":
            lambda a: [lambda: s3.get_bucket_encryption(Bucket=a["bucket"])],
        "aws_kms_key": lambda a: [lambda: kms.describe_key(KeyId=a["id"]),
                                  lambda: kms.get_key_policy(KeyId=a["id"], PolicyName="default"),
                                  lambda: kms.get_key_rotation_status(KeyId=a["id"])],
        "aws_ebs_volume": lambda a: [lambda: ec2.describe_volumes(VolumeIds=[a["id"]])],
        "aws_db_instance": lambda a: [lambda: rds.describe_db_instances(DBInstanceIdentifier=a["identifier"])],
        "aws_ebs_encryption_by_default": lambda a: [lambda: ec2.get_ebs_encryption_by_default()],
        "aws_s3_account_public_access_block":
            lambda a: [lambda: s3c.get_public_access_block(AccountId=a["account_id"])],
    }
    calls = [call for r in state["resources"] if r["type"] in reads
             for inst in r["instances"] for call in reads[r["type"]](inst["attributes"])]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(parallelism) as pool:
        list(pool.map(lambda c: c(), calls))
    return len(calls), time.monotonic() - t0


def mixed(binary, endpoint, env, tmp, scale):
    counts = {k: max(1, round(v * scale)) for k, v in mixed_estate.UNIT.items()}
    # One seeding thread: moto's server answers 500 now and then to concurrent creates at this size.
    state, resources, seed_s, _, _ = mixed_estate.build(endpoint, counts, prefix="bench", workers=1)
    path = os.path.join(tmp, "mixed.tfstate")
    with open(path, "w") as f:
        json.dump(state, f)
    size = os.path.getsize(path)
    result = measure(binary, path, env)
    refresh_calls, refresh_s = refresh_pattern(endpoint, state)
    iam = result["api_calls_detail"].get("iam", {})
    iam_entities = counts["roles"] + counts["policies"] + 2 + 1  # + user and group, + role policy
    result.update({
        "state_resources": resources, "state_mib": round(size / 2**20, 1), "moto_seed_s": round(seed_s, 1),
        "iam_calls": sum(iam.values()), "iam_entities": iam_entities,
        "refresh_pattern_calls": refresh_calls, "refresh_pattern_wall_s": round(refresh_s, 2),
        "calls_ratio": round(refresh_calls / max(result["api_calls"], 1), 1),
        "wall_ratio": round(refresh_s / max(result["wall_s"], 0.01), 1),
    })
    return result


def history(binary, endpoint, env, tmp, records):
    """`driftgate metrics` over a year of history: `records` runs of 30 pipelines (a state each,
    25 checked addresses, findings that appear, flap and get fixed), from a directory and from
    moto's S3 (listed, then read 16 at a time)."""
    import random
    import boto3
    from concurrent.futures import ThreadPoolExecutor
    rng = random.Random(7)
    root = os.path.join(tmp, "history")
    start = 1_764_547_200  # 2025-12-01
    pipelines = 30
    per = max(records // pipelines, 1)
    step = 365 * 86400 // per
    bodies = []
    for p in range(pipelines):
        lineage = f"lineage-{p}"
        addresses = [f"module.m{p}.aws_security_group.sg[{i}]" for i in range(25)]
        open_now = {}
        for r in range(per):
            at = start + r * step + p * 60
            # Each run: a finding may appear (5 %), an open one is fixed (30 %).
            if rng.random() < 0.05:
                a = rng.choice(addresses)
                open_now[a] = rng.choice(["critical", "high", "medium"])
            for a in list(open_now):
                if rng.random() < 0.3:
                    del open_now[a]
            findings = [{
                "fingerprint": f"{p}-{a}", "address": a, "resource_type": "aws_security_group",
                "cloud_id": "sg-1", "policy": "AWS-SG-ADMIN-IPV4", "severity": sev, "effect": "weakens",
                "kind": "added", "blocking": True, "enforcement": "block",
                "risk": {"score": 9.0, "exposure": "internet", "priority": "urgent"},
                "ticket": None, "lineage": lineage} for a, sev in open_now.items()]
            run_at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(at))
            key = f"runs/{time.strftime('%Y/%m/%d', time.gmtime(at))}/{run_at}-{p:04x}{r:04x}.json"
            body = json.dumps({"version": 1, "run_at": run_at, "tool_version": "0.1.0",
                               "pipeline": {"provider": "github-actions", "url": None, "commit": None, "ref": None},
                               "states": [{"label": f"s3://tf/{p}.tfstate", "lineage": lineage, "serial": r}],
                               "checked": addresses, "findings": findings, "verdict": "block" if findings else "pass"})
            bodies.append((key, body))
    for key, body in bodies:
        path = os.path.join(root, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(body + "\n")
    until = ["--until", "2026-11-30", "--since", "365d", "--format", "json", "--quiet"]
    code, out, wall, rss = run(binary, ["metrics", "--history", root, *until], env)
    m = json.loads(out)
    result = {"records": len(bodies), "episodes": m["episodes"], "dir_wall_s": round(wall, 2),
              "dir_peak_rss_mib": round(rss, 1), "bytes": sum(len(b) for _, b in bodies)}
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="bench-history")
    t0 = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda kb: s3.put_object(Bucket="bench-history", Key="h/" + kb[0], Body=kb[1].encode()), bodies))
    result["s3_upload_s"] = round(time.monotonic() - t0, 1)
    code, out, wall, rss = run(binary, ["metrics", "--history", "s3://bench-history/h", *until], env)
    m2 = json.loads(out)
    assert m2["episodes"] == m["episodes"], (m2["episodes"], m["episodes"])
    result.update(s3_wall_s=round(wall, 2), s3_peak_rss_mib=round(rss, 1),
                  s3_calls=f"{-(-len(bodies) // 1000)} ListObjectsV2 + {len(bodies)} GetObject")
    return result


def camel(value, rename=None):
    """A boto3 answer in AWS Config's field names: camelCase keys (`IpPermissions` ->
    `ipPermissions`), with `rename` for the fields Config names otherwise."""
    rename = rename or {}
    if isinstance(value, dict):
        return {rename.get(k, k[:1].lower() + k[1:]): camel(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v, rename) for v in value]
    return value


class ConfigAggregator(http.server.ThreadingHTTPServer):
    """AWS Config's aggregator over its JSON protocol: configuration items by (account, id)."""
    daemon_threads = True

    def __init__(self, items):
        super().__init__(("127.0.0.1", 0), ConfigHandler)
        self.items = items
        self.calls = 0


class ConfigHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.server.calls += 1
        if "Expression" in body:
            return self.select(body["Expression"])
        items = []
        for key in body.get("ResourceIdentifiers", []):
            item = self.server.items.get((key["SourceAccountId"], key["SourceRegion"], key["ResourceId"]))
            if item:
                items.append(item)
        self.answer({"BaseConfigurationItems": items, "UnprocessedResourceIdentifiers": []})

    def select(self, expression):
        """`SELECT resourceId, resourceName, awsRegion WHERE resourceType = 'T' AND accountId = 'A'
        [AND awsRegion = 'R'] AND resourceName IN ('n', …)`: the only query driftgate asks."""
        where = expression.split(" WHERE ", 1)[1]
        field = lambda f: (re.search(rf"\b{f} = '([^']*)'", where) or [None, None])[1]
        names = set(re.findall(r"'([^']*)'", where.split("resourceName IN", 1)[1]))
        rtype, account, region = field("resourceType"), field("accountId"), field("awsRegion")
        rows = [json.dumps({"resourceId": i["resourceId"], "resourceName": i["resourceName"],
                            "awsRegion": i["awsRegion"]})
                for (a, r, _), i in self.server.items.items()
                if a == account and i["resourceType"] == rtype and i.get("resourceName") in names
                and (region is None or r == region)]
        self.answer({"Results": rows, "QueryInfo": {"SelectFields": [{"Name": "resourceId"}]}})

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def config_items(estates):
    """What an aggregator holds of the estates' groups, ACLs, volumes and IAM entities, built from
    moto's EC2 and IAM answers in Config's shape (IAM's global, documents URL-encoded)."""
    items = {}

    def add(e, rtype, rid, configuration, name=None, region=None):
        region = region or e.region
        items[(e.account, region, rid)] = {
            "version": "1.3", "accountId": e.account, "configurationItemCaptureTime": time.time(),
            "configurationItemStatus": "OK", "resourceType": rtype, "resourceId": rid, "awsRegion": region,
            "resourceName": name, "configuration": json.dumps(configuration, default=str),
            "supplementaryConfiguration": {}}

    def doc(d):
        return urllib.parse.quote(d if isinstance(d, str) else json.dumps(d), safe="")

    def attached(entity):
        return [{"policyName": a["PolicyName"], "policyArn": a["PolicyArn"]}
                for a in entity.get("AttachedManagedPolicies", [])]

    def inline(entity, key):
        return [{"policyName": p["PolicyName"], "policyDocument": doc(p["PolicyDocument"])}
                for p in entity.get(key, [])]

    seen_accounts = set()
    for e in estates:
        if e.account in seen_accounts:
            continue
        seen_accounts.add(e.account)
        for page in e.iam.get_paginator("get_account_authorization_details").paginate():
            for r in page["RoleDetailList"]:
                add(e, "AWS::IAM::Role", r["RoleId"], {
                    "roleName": r["RoleName"], "roleId": r["RoleId"], "arn": r["Arn"],
                    "assumeRolePolicyDocument": doc(r["AssumeRolePolicyDocument"]),
                    "attachedManagedPolicies": attached(r), "rolePolicyList": inline(r, "RolePolicyList"),
                    **({"permissionsBoundary": r["PermissionsBoundary"]} if r.get("PermissionsBoundary") else {}),
                }, r["RoleName"], "global")
            for u in page["UserDetailList"]:
                add(e, "AWS::IAM::User", u["UserId"], {
                    "userName": u["UserName"], "userId": u["UserId"], "arn": u["Arn"],
                    "attachedManagedPolicies": attached(u), "userPolicyList": inline(u, "UserPolicyList"),
                    "groupList": u.get("GroupList", []), "permissionsBoundary": u.get("PermissionsBoundary"),
                }, u["UserName"], "global")
            for g in page["GroupDetailList"]:
                add(e, "AWS::IAM::Group", g["GroupId"], {
                    "groupName": g["GroupName"], "groupId": g["GroupId"], "arn": g["Arn"],
                    "attachedManagedPolicies": attached(g), "groupPolicyList": inline(g, "GroupPolicyList"),
                }, g["GroupName"], "global")
            for p in page["Policies"]:
                versions = [{"versionId": v["VersionId"], "isDefaultVersion": v["IsDefaultVersion"],
                             "document": doc(v["Document"])} for v in p.get("PolicyVersionList", [])]
                add(e, "AWS::IAM::Policy", p["PolicyId"], {
                    "policyName": p["PolicyName"], "policyId": p["PolicyId"], "arn": p["Arn"],
                    "defaultVersionId": p.get("DefaultVersionId"), "policyVersionList": versions,
                }, p["PolicyName"], "global")

    for e in estates:
        for page in e.ec2.get_paginator("describe_security_groups").paginate():
            for g in page["SecurityGroups"]:
                add(e, "AWS::EC2::SecurityGroup", g["GroupId"], camel(g, {"IpRanges": "ipv4Ranges"}))
        for page in e.ec2.get_paginator("describe_network_acls").paginate():
            for a in page["NetworkAcls"]:
                add(e, "AWS::EC2::NetworkAcl", a["NetworkAclId"], camel(a))
        for page in e.ec2.get_paginator("describe_volumes").paginate():
            for v in page["Volumes"]:
                add(e, "AWS::EC2::Volume", v["VolumeId"], camel(v))
    return items


def accounts(binary, env, tmp, endpoint, count, regions, per_region):
    """`count` accounts x `regions` regions x about `per_region` state resources each (security groups
    with an egress rule resource, network ACLs, EBS volumes; IAM roles in the first region), one state
    per account and region, all checked in one run from a security account that owns none of them,
    through `--aws-role`."""
    names = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"][:regions]
    groups = per_region * 2 // 5  # a group and its rule resource: 4/5 of the resources
    acls = per_region // 10
    paths, resources, estates = [], 0, []
    run_id = os.getpid()  # names stay unique on a moto that already holds an earlier run
    t0 = time.monotonic()
    for a in range(count):
        account = f"{200000000000 + a:012d}"
        for r, region in enumerate(names):
            # One writer at a time: moto 5.2 can fail concurrent CreateSecurityGroup calls in a
            # VPC (its group index changes while another request iterates it).
            e = mixed_estate.Estate(endpoint, account, f"org{run_id}-{a}-{r}", workers=1, region=region)
            e.network(groups, groups, acls)
            estates.append(e)
            rest = per_region - 2 * groups - acls
            if r == 0:
                e.identity(rest // 2, 0)
                e.volumes(rest - rest // 2)
            else:
                e.volumes(rest)
            state = {"version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": f"org-{a}-{region}",
                     "outputs": {}, "resources": e.resources}
            resources += sum(len(x["instances"]) for x in e.resources)
            os.makedirs(os.path.join(tmp, "org", account), exist_ok=True)
            path = os.path.join(tmp, "org", account, f"{region}.tfstate")
            with open(path, "w") as f:
                json.dump(state, f)
            paths.append(path)
    seed_s = time.monotonic() - t0
    args = ["check", "--quiet", "--format", "json", "--aws-role", "arn:aws:iam::{account}:role/driftgate-read"]
    for p in paths:
        args += ["--state", p]
    code, out, wall, rss = run(binary, args, env)
    report = json.loads(out)
    detail = report["summary"]["api_calls"]
    calls = sum(n for ops in detail.values() for n in ops.values())

    # The same objects through an aggregator in the security account, IAM included (names
    # resolved by advanced query).
    aggregator = ConfigAggregator(config_items(estates))
    threading.Thread(target=aggregator.serve_forever, daemon=True).start()
    config_env = dict(env, AWS_ENDPOINT_URL_CONFIG_SERVICE=f"http://127.0.0.1:{aggregator.server_address[1]}")
    c_code, c_out, c_wall, c_rss = run(binary, args + ["--aws-source", "config:org"], config_env)
    aggregator.shutdown()
    c_report = json.loads(c_out)
    c_detail = c_report["summary"]["api_calls"]
    config_calls = sum(c_detail.get("config", {}).values())
    # The checked objects Config reads: groups (their rule resources are items of the group),
    # ACLs, volumes and the IAM objects of the states.
    recorded = sum(len(r["instances"]) for e in estates for r in e.resources
                   if r["type"] in ("aws_security_group", "aws_network_acl", "aws_ebs_volume", "aws_iam_role",
                                    "aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy",
                                    "aws_iam_group_policy", "aws_iam_user", "aws_iam_group"))
    via_config = {"verdict": c_report["verdict"], "drifts": c_report["summary"]["drifts"],
                  "api_calls": sum(n for ops in c_detail.values() for n in ops.values()),
                  "api_calls_detail": c_detail, "config_calls": config_calls, "config_objects": recorded,
                  "config_calls_per_100_objects": round(100 * config_calls / max(recorded, 1), 2),
                  "wall_s": round(c_wall, 2), "peak_rss_mib": round(c_rss, 1)}
    return {"config": via_config, "accounts": count, "regions": regions, "states": len(paths), "state_resources": resources,
            "objects": report["summary"]["objects_checked"], "verdict": report["verdict"],
            "drifts": report["summary"]["drifts"], "api_calls": calls, "api_calls_detail": detail,
            "calls_per_100_resources": round(100 * calls / max(resources, 1), 2),
            "one_read_per_resource_ratio": round(resources / max(calls, 1), 1),
            "wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1), "moto_seed_s": round(seed_s, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("endpoint")
    ap.add_argument("--groups", type=int, default=2500, help="security groups (x2 resources each)")
    ap.add_argument("--state-mb", type=int, default=100)
    ap.add_argument("--azure-nsgs", type=int, default=2500)
    ap.add_argument("--gcp-firewalls", type=int, default=2500)
    ap.add_argument("--mixed-scale", type=float, default=1.0, help="mixed estate size (1 = 10,000 resources; 0 skips)")
    ap.add_argument("--history-records", type=int, default=10000, help="history records for `metrics` (0 skips)")
    ap.add_argument("--accounts", type=int, default=20, help="AWS accounts read with --aws-role (0 skips)")
    ap.add_argument("--account-regions", type=int, default=2, choices=range(1, 5))
    ap.add_argument("--account-resources", type=int, default=500, help="state resources per account and region")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=args.endpoint, AWS_REGION=REGION, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        state, resources, seed_s = estate(args.endpoint, args.groups)
        path = os.path.join(tmp, "estate.tfstate")
        with open(path, "w") as f:
            json.dump(state, f)
        code, out, wall, rss = run(args.binary, ["check", "--quiet", "--format", "json", "--state", path], env)
        report = json.loads(out)
        calls = sum(n for ops in report["summary"]["api_calls"].values() for n in ops.values())
        results["estate"] = {
            "resources": resources, "objects": report["summary"]["objects_checked"], "verdict": report["verdict"],
            "drifts": report["summary"]["drifts"], "wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1),
            "api_calls": calls, "api_calls_detail": report["summary"]["api_calls"],
            "calls_saved_vs_one_per_resource": round(resources / max(calls, 1), 1), "moto_seed_s": round(seed_s, 1)}

        results["exposure"] = exposure(args.binary, args.endpoint, env, path, state, e_wall=wall)
        results["fix"] = fix(args.binary, args.endpoint, env, tmp, state)
        results["fix_calls"] = fix(args.binary, args.endpoint, env, tmp, state, calls=True)

        big = os.path.join(tmp, "big.tfstate")
        count, size = big_state(big, args.state_mb)
        code, out, wall, rss = run(args.binary, ["check", "--quiet", "--format", "json", "--state", big], env)
        results["parse"] = {"instances": count, "size_mib": round(size / 2**20, 1), "wall_s": round(wall, 2),
                            "peak_rss_mib": round(rss, 1), "rss_per_state_size": round(rss / (size / 2**20), 2)}

        (az_path, gcp_path), server, bindir = cloud_estates(tmp, args.azure_nsgs, args.gcp_firewalls)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        cloud_env = dict(env, PATH=f"{bindir}:{env.get('PATH', '')}", DRIFTGATE_ARM_ENDPOINT=base,
                         DRIFTGATE_GCP_ENDPOINT=base, GOOGLE_OAUTH_ACCESS_TOKEN="bench")
        results["azure"] = measure(args.binary, az_path, cloud_env)
        results["gcp"] = measure(args.binary, gcp_path, cloud_env)
        server.shutdown()
        if args.mixed_scale > 0:
            results["mixed"] = mixed(args.binary, args.endpoint, env, tmp, args.mixed_scale)
        if args.history_records > 0:
            results["history"] = history(args.binary, args.endpoint, env, tmp, args.history_records)
        if args.accounts > 0:
            results["accounts"] = accounts(args.binary, env, tmp, args.endpoint, args.accounts,
                                           args.account_regions, args.account_resources)

    e, p = results["estate"], results["parse"]
    print(f"estate: {e['resources']} state resources, {e['objects']} live objects -> {e['api_calls']} API calls "
          f"({e['calls_saved_vs_one_per_resource']}x fewer than one per resource), {e['wall_s']} s, "
          f"peak RSS {e['peak_rss_mib']} MiB, verdict {e['verdict']}")
    print(f"parse:  {p['size_mib']} MiB state, {p['instances']} instances -> {p['wall_s']} s, "
          f"peak RSS {p['peak_rss_mib']} MiB ({p['rss_per_state_size']}x the file)")
    x = results["exposure"]
    print(f"exposure: {x['drifted_groups']} drifted groups ({x['public_groups']} on public instances) -> "
          f"{x['exposure_calls']} for their exposure {x['exposures']}; {x['wall_s']} s "
          f"(clean run {x['clean_wall_s']} s), peak RSS {x['peak_rss_mib']} MiB")
    for key, shape in (("fix", "a resource's for_each"), ("fix_calls", "a module call's for_each")):
        x = results[key]
        print(f"fix: {x['groups']} groups under {shape}, one console fix each -> {x['fixes']} fixes written "
              f"into their map entries ({x['manual']} manual) of a {round(x['code_bytes'] / 1024)} KiB file, "
              f"{x['wall_s']} s, peak RSS {x['peak_rss_mib']} MiB")
    for cloud, what in (("azure", "NSGs"), ("gcp", "firewalls")):
        c = results[cloud]
        print(f"{cloud}: {c['resources']} {what} -> {c['api_calls']} API calls {c['api_calls_detail']}, {c['wall_s']} s, "
              f"peak RSS {c['peak_rss_mib']} MiB, verdict {c['verdict']}")
    if "mixed" in results:
        x = results["mixed"]
        print(f"mixed: {x['state_resources']} state resources ({x['state_mib']} MiB) -> {x['api_calls']} API calls, "
              f"{x['wall_s']} s, peak RSS {x['peak_rss_mib']} MiB, verdict {x['verdict']}; IAM {x['iam_calls']} calls "
              f"for {x['iam_entities']} entities; one read per resource (boto3, 10 at once): "
              f"{x['refresh_pattern_calls']} calls, {x['refresh_pattern_wall_s']} s -> {x['calls_ratio']}x the calls, "
              f"{x['wall_ratio']}x the wall time")
        print(f"       by operation: {x['api_calls_detail']}")
    if "history" in results:
        h = results["history"]
        print(f"metrics: {h['records']} records ({round(h['bytes'] / 2**20, 1)} MiB), {h['episodes']} episodes -> "
              f"directory {h['dir_wall_s']} s, peak RSS {h['dir_peak_rss_mib']} MiB; S3 {h['s3_wall_s']} s "
              f"({h['s3_calls']}), peak RSS {h['s3_peak_rss_mib']} MiB")
    if "accounts" in results:
        x = results["accounts"]
        print(f"accounts: {x['accounts']} accounts x {x['regions']} regions ({x['states']} states, "
              f"{x['state_resources']} state resources, {x['objects']} objects) through --aws-role -> "
              f"{x['api_calls']} API calls ({x['calls_per_100_resources']} per 100 resources, "
              f"{x['one_read_per_resource_ratio']}x fewer than one per resource), {x['wall_s']} s, "
              f"peak RSS {x['peak_rss_mib']} MiB, verdict {x['verdict']}")
        print(f"       by operation: {x['api_calls_detail']}")
        c = x["config"]
        print(f"       through AWS Config (aggregator stand-in, IAM included): {c['config_objects']} "
              f"objects read through Config -> {c['config_calls']} Config calls (BatchGet and Select) "
              f"({c['config_calls_per_100_objects']} per 100), {c['api_calls']} calls in all, {c['wall_s']} s, "
              f"peak RSS {c['peak_rss_mib']} MiB, verdict {c['verdict']}; {c['api_calls_detail']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
