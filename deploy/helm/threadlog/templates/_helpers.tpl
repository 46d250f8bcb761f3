{{/* Names. The release name, unless it already holds the chart's name. */}}
{{- define "threadlog.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "threadlog.selectorLabels" -}}
app.kubernetes.io/name: threadlog
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "threadlog.labels" -}}
{{ include "threadlog.selectorLabels" . }}
app.kubernetes.io/part-of: threadlog
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "threadlog.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The infrastructure objects' names. */}}
{{- define "threadlog.kafkaCluster" -}}{{ include "threadlog.fullname" . }}{{- end -}}
{{- define "threadlog.pgCluster" -}}{{ include "threadlog.fullname" . }}-pg{{- end -}}
{{- define "threadlog.pooler" -}}{{ include "threadlog.fullname" . }}-pg-pooler-rw{{- end -}}
{{- define "threadlog.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "threadlog.fullname" .) -}}
{{- end -}}
{{- define "threadlog.kafkaUser" -}}
{{- $user := index .root.Values.kafkaAuth.users .component -}}
{{- $user.username | default (printf "%s-%s" (include "threadlog.fullname" .root) .component) -}}
{{- end -}}

{{/* Does the chart make the servers threadlog runs on? Then they exist only after install. */}}
{{- define "threadlog.ownsInfra" -}}
{{- if or .Values.kafka.strimzi.enabled .Values.postgres.cnpg.enabled }}true{{ end -}}
{{- end -}}

{{/* Kafka's bootstrap address: the setting, or Strimzi's Service (9093 with TLS and SCRAM,
     9092 plain while threadlog cannot speak them: #18 item 1). */}}
{{- define "threadlog.kafkaBootstrap" -}}
{{- if .Values.kafka.strimzi.enabled -}}
{{- printf "%s-kafka-bootstrap:%s" (include "threadlog.kafkaCluster" .) (ternary "9093" "9092" .Values.kafkaAuth.enabled) -}}
{{- else -}}
{{- .Values.settings.KAFKA_BOOTSTRAP_SERVERS -}}
{{- end -}}
{{- end -}}

{{/* Every setting, as the ConfigMap holds it: the values, with the derived ones filled in. */}}
{{- define "threadlog.settings" -}}
{{- $fullname := include "threadlog.fullname" . -}}
{{- $derived := dict
  "KAFKA_BOOTSTRAP_SERVERS" (include "threadlog.kafkaBootstrap" .)
  "THREADLOG_WEB_QUERY_URL" (.Values.settings.THREADLOG_WEB_QUERY_URL | default (printf "http://%s-query:%v" $fullname .Values.settings.THREADLOG_QUERY_PORT))
  "THREADLOG_WEB_INGEST_URL" (.Values.settings.THREADLOG_WEB_INGEST_URL | default (printf "http://%s-ingest:%v" $fullname .Values.settings.THREADLOG_INGEST_PORT))
-}}
{{- range $name, $value := merge $derived .Values.settings }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Where a process reads DATABASE_URL (and DATABASE_READ_URL), beyond the Secret of envFrom:
     CloudNativePG's own Secret when the chart makes the cluster. */}}
{{- define "threadlog.databaseEnv" -}}
{{- $pg := .root.Values.postgres.cnpg -}}
{{- $cluster := include "threadlog.pgCluster" .root -}}
{{- $query := eq .component "query" -}}
{{- if $pg.enabled }}
{{- $pooled := and $query $pg.pooler.enabled $pg.pooler.serveQuery -}}
{{- $replicas := and $query $pg.queryReadsFromReplicas -}}
{{- if or $pooled $replicas }}
# For the URLs below without a password: asyncpg takes it from PGPASSWORD.
- name: PGPASSWORD
  valueFrom: {secretKeyRef: {name: {{ $cluster }}-app, key: password}}
{{- end }}
{{- if $pooled }}
# Through the Pooler (session mode).
- name: DATABASE_URL
  value: {{ printf "postgresql://threadlog@%s:5432/threadlog" (include "threadlog.pooler" .root) | quote }}
{{- else }}
# The primary, through CloudNativePG's `-rw` Service (its Secret's `uri`).
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ $cluster }}-app, key: uri}}
{{- end }}
{{- if $replicas }}
# The replicas, through CloudNativePG's `-ro` Service.
- name: DATABASE_READ_URL
  value: {{ printf "postgresql://threadlog@%s-ro:5432/threadlog" $cluster | quote }}
{{- end }}
{{- else if and $query .root.Values.database.readUrl }}
# Reads from a replica.
- name: DATABASE_READ_URL
  value: {{ .root.Values.database.readUrl | quote }}
{{- end }}
{{- end -}}

{{/* A process's Kafka user, its password and the cluster's CA (README, Secured connections). */}}
{{- define "threadlog.kafkaAuthEnv" -}}
{{- /* The pages (web) talk to no Kafka. */ -}}
{{- if and .root.Values.kafkaAuth.enabled (hasKey .root.Values.kafkaAuth.users .component) }}
{{- $auth := .root.Values.kafkaAuth -}}
{{- $user := index $auth.users .component -}}
{{- $name := include "threadlog.kafkaUser" . }}
- name: THREADLOG_KAFKA_SECURITY_PROTOCOL
  value: {{ $auth.securityProtocol | quote }}
- name: THREADLOG_KAFKA_SASL_MECHANISM
  value: {{ $auth.saslMechanism | quote }}
- name: THREADLOG_KAFKA_SASL_USERNAME
  value: {{ $name | quote }}
- name: THREADLOG_KAFKA_SASL_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ $user.passwordSecret | default $name }}, key: {{ $user.passwordKey }}}}
- name: THREADLOG_KAFKA_SSL_CAFILE
  value: /etc/threadlog/kafka-ca/{{ $auth.caKey }}
{{- end }}
{{- end -}}

{{- define "threadlog.kafkaCaSecret" -}}
{{- .Values.kafkaAuth.caSecret | default (printf "%s-cluster-ca-cert" (include "threadlog.kafkaCluster" .)) -}}
{{- end -}}

{{/* envFrom of every threadlog container: the settings, and the Secret (the KEK, and the
     URL unless CloudNativePG's own Secret holds it: `env` then sets it, and wins). */}}
{{- define "threadlog.envFrom" -}}
- configMapRef:
    name: {{ .configMap }}
- secretRef:
    name: {{ .secret }}
{{- end -}}

{{/* The pod's volumes: /tmp (the root file system is read-only) and the Kafka CA (mounted in
     every pod, the pages' too, for one pod template). */}}
{{- define "threadlog.volumes" -}}
- name: tmp
  emptyDir: {sizeLimit: 64Mi}
{{- if .Values.kafkaAuth.enabled }}
- name: kafka-ca
  secret:
    secretName: {{ include "threadlog.kafkaCaSecret" . }}
    items: [{key: {{ .Values.kafkaAuth.caKey }}, path: {{ .Values.kafkaAuth.caKey }}}]
{{- end }}
{{- end -}}

{{- define "threadlog.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafkaAuth.enabled }}
- name: kafka-ca
  mountPath: /etc/threadlog/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "threadlog.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "threadlog.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* A threadlog Deployment. Arguments: root, component, args, replicas (omitted when an
     autoscaler owns them), port (name/number) and probes (YAML), env (YAML), grace. */}}
{{- define "threadlog.deployment" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
{{- $fullname := include "threadlog.fullname" $root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}-{{ .component }}
  labels:
    {{- include "threadlog.labels" . | nindent 4 }}
spec:
  {{- if not .autoscaled }}
  replicas: {{ $values.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- if .port }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  {{- end }}
  selector:
    matchLabels:
      {{- include "threadlog.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "threadlog.labels" . | nindent 8 }}
      annotations:
        # A changed setting rolls the pods: envFrom is read only when a container starts.
        checksum/settings: {{ include "threadlog.settings" $root | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      terminationGracePeriodSeconds: {{ .grace | default 30 }}
      automountServiceAccountToken: false
      # Service links would add *_SERVICE_HOST variables to the environment threadlog reads.
      enableServiceLinks: false
      securityContext:
        {{- include "threadlog.podSecurityContext" . | nindent 8 }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "threadlog.selectorLabels" . | nindent 14 }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "threadlog.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .component | quote }}]
          envFrom:
            {{- include "threadlog.envFrom" (dict "root" $root "configMap" (printf "%s-settings" $fullname) "secret" (include "threadlog.secretName" $root)) | nindent 12 }}
          {{- $env := printf "%s\n%s\n%s" (include "threadlog.databaseEnv" .) (include "threadlog.kafkaAuthEnv" .) (.env | default "") -}}
          {{- $env = regexReplaceAll "\n[ \t]*\n" $env "\n" | trim }}
          {{- if $env }}
          env:
            {{- $env | nindent 12 }}
          {{- end }}
          {{- with .port }}
          ports:
            - name: {{ .name }}
              containerPort: {{ .number }}
              protocol: TCP
          {{- end }}
          {{- with .probes }}
          {{- . | trim | nindent 10 }}
          {{- end }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- include "threadlog.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "threadlog.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "threadlog.volumes" $root | nindent 8 }}
{{- end -}}

{{/* Readiness on /readyz (503 until the process's dependencies answer: services/health.py),
     liveness on /healthz (200 while the process runs), and a preStop pause so the pod leaves
     the Service's endpoints before uvicorn stops taking connections. */}}
{{- define "threadlog.httpProbes" -}}
startupProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 2
  failureThreshold: 30
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
lifecycle:
  preStop:
    exec:
      command: ["sleep", "5"]
{{- end -}}

{{- define "threadlog.service" -}}
{{- $values := index .root.Values .component -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "threadlog.fullname" .root }}-{{ .component }}
  labels:
    {{- include "threadlog.labels" . | nindent 4 }}
spec:
  type: {{ $values.service.type }}
  selector:
    {{- include "threadlog.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{/* Voluntary disruptions (drains, upgrades) leave minAvailable pods serving. */}}
{{- define "threadlog.pdb" -}}
{{- $values := index .root.Values .component -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "threadlog.fullname" .root }}-{{ .component }}
  labels:
    {{- include "threadlog.labels" . | nindent 4 }}
spec:
  minAvailable: {{ $values.pdb.minAvailable }}
  selector:
    matchLabels:
      {{- include "threadlog.selectorLabels" . | nindent 6 }}
{{- end -}}

{{- define "threadlog.hpa" -}}
{{- $values := index .root.Values .component -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "threadlog.fullname" .root }}-{{ .component }}
  labels:
    {{- include "threadlog.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "threadlog.fullname" .root }}-{{ .component }}
  minReplicas: {{ $values.autoscaling.minReplicas }}
  maxReplicas: {{ .maxReplicas | default $values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $values.autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}

{{/* THREADLOG_KEK: secrets.kek, else the one the chart's Secret holds already (an upgrade
     keeps it), else 32 random bytes (randBytes gives them in base64) made once per render:
     the init hook's Secret and the chart's get the same one. */}}
{{- define "threadlog.kek" -}}
{{- if not .Values.secrets.kek -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "threadlog.fullname" .) -}}
{{- $kept := "" -}}
{{- if $existing -}}
{{- $kept = index ($existing.data | default dict) "THREADLOG_KEK" | default "" | b64dec -}}
{{- end -}}
{{- $_ := set .Values.secrets "kek" ($kept | default (randBytes 32)) -}}
{{- end -}}
{{- .Values.secrets.kek -}}
{{- end -}}

{{/* The chart's Secret's data: DATABASE_URL unless CloudNativePG's Secret holds it, and the
     KEK. */}}
{{- define "threadlog.secretData" -}}
{{- if not .Values.postgres.cnpg.enabled }}
  DATABASE_URL: {{ .Values.secrets.databaseUrl | quote }}
{{- end }}
  THREADLOG_KEK: {{ include "threadlog.kek" . | quote }}
{{- end -}}
