package api

// Routes of version 1, all under Prefix, JSON in and out. Every request
// needs "Authorization: Bearer TOKEN" (401 without a known token); the
// mutations (POST, PUT, DELETE) need an operator token (403 for a
// read-only one) and are recorded with the token's name as the actor
// ("api@NAME"). Lists take ?limit= (default 100, 0 for all) and ?cursor=.
//
//	GET    /dags                                   DAGList
//	GET    /dags/{dag}                             DAGDetail
//	POST   /dags/{dag}/pause                       DAG        (PauseRequest, optional)
//	POST   /dags/{dag}/unpause                     DAG        (PauseRequest, optional)
//	POST   /dags/{dag}/runs                        TriggerResponse (TriggerRequest); 201 created, 200 existed
//	GET    /runs?dag=&state=                       Page[Run]
//	GET    /dags/{dag}/runs/{run}                  Run, with task_states; RUN may be "latest"
//	GET    /tasks?dag=&run=&state=                 Page[TaskInstance]; run may be "latest" (with dag)
//	GET    /dags/{dag}/runs/{run}/tasks/{task}     TaskInstance
//	GET    /dags/{dag}/runs/{run}/tasks/{task}/history    TaskHistory
//	GET    /dags/{dag}/runs/{run}/tasks/{task}/logs?try=N text/plain (the latest try by default)
//	POST   /ops                                    OpResponse (OpRequest); 202 stored, 200 dry run
//	GET    /ops?dag=&run=&state=                   Page[Op]
//	GET    /ops/{id}                               Op
//	GET    /pools                                  Page[Pool]
//	PUT    /pools/{pool}                           Pool (PoolSet)
//	DELETE /pools/{pool}                           204
//	GET    /pools/history?pool=                    Page[PoolChange]
//	POST   /dags/{dag}/backfill/plan               BackfillPlan (BackfillPlanRequest)
//	GET    /dags/{dag}/history                     Page[DAGChange] (pauses and unpauses)
//	GET    /whoami                                 WhoAmI
//	GET    /status                                 Status
//	GET    /health                                 Health
//	GET    /debug/flamegraph?kind=cpu|wall&seconds=N   the console's flame graph of a fresh profile (package console)
//	GET    /debug/...                              the serving process's debug API (diag's), read-only role
//
// Outside Prefix: GET /openapi.yaml (no token) and the web console at /.
